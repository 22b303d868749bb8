import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The faults the simulated camera can produce, each from the list of what a relay adapter must survive. */
export type VbcFault =
  | 'close-on-accept' // accepts the connection, then closes it at once
  | 'silent' // accepts and never sends a byte
  | 'version-without-nul' // answers VERSION with endless text and no NUL
  | 'no-login-reply' // answers VERSION, never answers the login lines
  | 'no-frame-reply' // after `faultAfter` frames, never answers a frame request
  | 'slow-reply' // after `faultAfter` frames, answers each request `replyDelayMs` late
  | 'close-mid-header' // after `faultAfter` frames, sends half a header and closes
  | 'close-mid-jpeg' // after `faultAfter` frames, sends a header and half a JPEG and closes
  | 'oversize-frame-length' // after `faultAfter` frames, announces a frame of 2,000,001 bytes
  | 'oversize-other-length' // after `faultAfter` frames, announces a 1,001-byte message of another id
  | 'trickle' // writes every reply a byte at a time
  | 'not-jpeg' // every other frame reply carries something that is not a JPEG
  | 'unrequested'; // sends a message of another id before every frame reply

export interface VbcSimulatorOptions {
  /** Frames served in turn. */
  readonly jpegs: readonly Buffer[];
  readonly fault?: VbcFault;
  /** Good frame replies per connection before a fault that strikes later (default 2; the reply to the setup 0x85 counts). */
  readonly faultAfter?: number;
  /** Delay of each late reply for 'slow-reply', ms. */
  readonly replyDelayMs?: number;
  /** Leave the setup messages other than 0x85 unanswered (what real cameras answer to them is not known). */
  readonly quietSetup?: boolean;
}

/** One command the camera received: a text line (LF removed) or a binary request. */
export type ReceivedCommand =
  | { readonly kind: 'text'; readonly line: Buffer; readonly repliesSentBefore: number }
  | { readonly kind: 'binary'; readonly id: number; readonly header: number; readonly payload: Buffer };

const MAX_REQUEST_PAYLOAD = 64 * 1024;
const VERSION_REPLY = Buffer.from('VB-C10 simulator 1.0\0', 'latin1');
const MUXCONF_REPLY = Buffer.from('MUXCONF video=jpeg size=192x144\0', 'latin1');

/**
 * A Canon VB-C10 speaking the native video protocol on 127.0.0.1 as the reference client expects it, with faults on
 * demand. It counts connections and records every command it receives, in order, for every connection.
 */
export class VbcSimulator {
  connections = 0;
  readonly commands: ReceivedCommand[] = [];
  frameReplies = 0;
  /** The fault in force for new requests; settable, so a test can heal the camera and watch the adapter recover. */
  fault: VbcFault | undefined;
  private readonly sockets = new Set<Socket>();
  private frameCursor = 0;

  private constructor(
    private readonly server: Server,
    readonly options: VbcSimulatorOptions,
  ) {
    this.fault = options.fault;
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Starts a simulator on a free port of 127.0.0.1. */
  static async start(options: VbcSimulatorOptions): Promise<VbcSimulator> {
    const server = createServer();
    const simulator = new VbcSimulator(server, options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return simulator;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The Source URL of this camera. */
  get url(): string {
    return `vbc://127.0.0.1:${this.port}`;
  }

  /** Connections still open. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Text lines received, as latin1 strings. */
  get textLines(): string[] {
    return this.commands.flatMap((command) => (command.kind === 'text' ? [command.line.toString('latin1')] : []));
  }

  /** Binary requests received. */
  get binaryCommands(): Array<Extract<ReceivedCommand, { kind: 'binary' }>> {
    return this.commands.flatMap((command) => (command.kind === 'binary' ? [command] : []));
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {}); // the adapter closing on us is part of the tests
    socket.setNoDelay(true);
    if (this.fault === 'close-on-accept') return void socket.destroy();
    new SimulatedConnection(this, socket).listen();
  }

  /** The next frame to serve, round robin. */
  nextJpeg(): Buffer {
    const jpeg = this.options.jpegs[this.frameCursor % this.options.jpegs.length]!;
    this.frameCursor++;
    return jpeg;
  }
}

/** One camera-side connection: parses the client's text lines, then its videograms, and answers them in order. */
class SimulatedConnection {
  private pending = Buffer.alloc(0);
  private binary = false;
  private textReplies = 0;
  private framesServed = 0;
  /** Replies go out one after another, even when one is slow or trickled. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly camera: VbcSimulator,
    private readonly socket: Socket,
  ) {}

  listen(): void {
    // Reads (so it notices the client leave) but never says a word.
    if (this.camera.fault === 'silent') return void this.socket.resume();
    this.socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      this.parse();
    });
  }

  private parse(): void {
    while (!this.binary) {
      const lf = this.pending.indexOf(0x0a);
      if (lf < 0) return;
      const line = this.pending.subarray(0, lf);
      this.pending = this.pending.subarray(lf + 1);
      this.camera.commands.push({ kind: 'text', line: Buffer.from(line), repliesSentBefore: this.textReplies });
      this.onTextLine(line.toString('latin1'));
    }
    while (this.pending.length >= 8) {
      const length = this.pending.readUInt32BE(4);
      if (length > MAX_REQUEST_PAYLOAD) return void this.socket.destroy();
      if (this.pending.length < 8 + length) return;
      const id = this.pending[0]!;
      const header = this.pending.readUIntBE(1, 3);
      const payload = Buffer.from(this.pending.subarray(8, 8 + length));
      this.pending = this.pending.subarray(8 + length);
      this.camera.commands.push({ kind: 'binary', id, header, payload });
      this.enqueue(() => this.onVideogram(id));
    }
  }

  private onTextLine(line: string): void {
    const fault = this.camera.fault;
    if (line === 'VERSION') {
      if (fault === 'version-without-nul') return this.enqueue(() => this.endlessText());
      this.textReplies++;
      this.socket.write(VERSION_REPLY);
    } else if (line === 'GET MUXCONF') {
      if (fault === 'no-login-reply') return;
      this.textReplies++;
      this.socket.write(MUXCONF_REPLY);
    } else if (line === 'START') {
      this.binary = true;
    }
  }

  /** Text without a NUL, a few KiB at a time, until the client gives up. */
  private async endlessText(): Promise<void> {
    const chunk = Buffer.alloc(1024, 'A');
    for (let i = 0; i < 64 && !this.socket.destroyed; i++) {
      this.socket.write(chunk);
      await sleep(5);
    }
  }

  private async onVideogram(id: number): Promise<void> {
    if (id !== 0x85) return this.camera.options.quietSetup ? undefined : this.send(videogram(id, 0, Buffer.alloc(0)));
    const { faultAfter = 2, replyDelayMs = 0 } = this.camera.options;
    const fault = this.camera.fault;
    const faulty = this.framesServed >= faultAfter;
    const jpeg = this.camera.nextJpeg();
    if (fault === 'unrequested') await this.send(videogram(0x81, 0x010203, Buffer.from('unrequested status')));
    if (faulty) {
      switch (fault) {
        case 'no-frame-reply':
          return;
        case 'slow-reply':
          await sleep(replyDelayMs);
          break;
        case 'close-mid-header':
          this.socket.write(videogram(0x02, 0, jpeg).subarray(0, 4));
          return void this.socket.end();
        case 'close-mid-jpeg':
          this.socket.write(videogram(0x02, 0, jpeg).subarray(0, 8 + (jpeg.length >> 1)));
          return void this.socket.end();
        case 'oversize-frame-length':
          return this.send(header(0x02, 0, 2_000_001));
        case 'oversize-other-length':
          return this.send(header(0x31, 0, 1_001));
      }
    }
    this.framesServed++;
    const notJpeg = fault === 'not-jpeg' && this.framesServed % 2 === 0;
    const payload = notJpeg ? notJpegPayload(this.framesServed, jpeg) : jpeg;
    await this.send(videogram(0x02, 0, payload));
    this.camera.frameReplies++;
  }

  private async send(bytes: Buffer): Promise<void> {
    if (this.socket.destroyed) return;
    if (this.camera.fault !== 'trickle') return void this.socket.write(bytes);
    for (let i = 0; i < bytes.length && !this.socket.destroyed; i++) {
      this.socket.write(bytes.subarray(i, i + 1));
      // Yield to the event loop so single bytes leave as separate segments, and pause now and then so they arrive apart.
      await (i % 256 === 255 ? sleep(1) : new Promise<void>((resolve) => setImmediate(resolve)));
    }
  }

  private enqueue(job: () => Promise<void> | void): void {
    this.queue = this.queue.then(job).catch(() => {
      this.socket.destroy();
    });
  }
}

/** Payloads that are not JPEGs, in turn: text, a JPEG without its end, a JPEG start missing. */
function notJpegPayload(sequence: number, jpeg: Buffer): Buffer {
  const variants = [Buffer.from('this is not an image'), jpeg.subarray(0, jpeg.length - 2), jpeg.subarray(2)];
  return variants[(sequence >> 1) % variants.length]!;
}

/** A videogram header with any length field, true or not. */
export function header(id: number, bytes1to3: number, length: number): Buffer {
  const out = Buffer.alloc(8);
  out[0] = id;
  out.writeUIntBE(bytes1to3, 1, 3);
  out.writeUInt32BE(length, 4);
  return out;
}

/** A whole videogram as the camera sends it. */
export function videogram(id: number, bytes1to3: number, payload: Buffer): Buffer {
  return Buffer.concat([header(id, bytes1to3, payload.length), payload]);
}


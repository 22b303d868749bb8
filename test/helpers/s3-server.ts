import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import S3rver from 's3rver';
import { signatureProblem } from './s3-signature.ts';
import { S3Client, PutObjectCommand, ListObjectsV2Command, DeleteObjectCommand } from '@aws-sdk/client-s3';

/** The credentials s3rver accepts. */
export const S3_ACCESS_KEY = 'S3RVER';
export const S3_SECRET_KEY = 'S3RVER';

/** One fault, applied to the next requests that match it (`count` of them; Infinity for all), by method and a part of the URL. */
export type S3Fault = { url?: string } & (
  | { kind: 'status'; status: 500 | 503; count: number; method?: string }
  | { kind: 'garbage'; count: number; method?: string; status?: 200 | 500 }
  | { kind: 'denied'; code: 'ExpiredToken' | 'InvalidAccessKeyId'; count: number; method?: string }
  | { kind: 'cut'; afterBytes: number; count: number; method?: string }
  | { kind: 'drip'; bytesPerSecond: number; count: number; method?: string });

/** A request that went through the proxy: method, path with query, the Range header, and the body bytes answered. */
export interface S3Request {
  readonly method: string;
  readonly url: string;
  readonly range: string | undefined;
  bytes: number;
  status: number;
}

/**
 * An S3 API server for tests: s3rver on 127.0.0.1 (port 0) holding one bucket, behind an HTTP proxy that faults can be
 * switched on at run time (500 / 503 SlowDown answers, 403 refused credentials, garbage XML, a body cut mid-way, a slow drip) and that can be
 * stopped and started again on the same port, as a bucket that goes down. The relay talks to `endpoint` (the proxy).
 */
export class TestS3Server {
  readonly requests: S3Request[] = [];
  private faults: S3Fault[] = [];
  private down = false;
  private readonly sockets = new Set<Socket>();
  /** Secrets by access key, for the signature check s3rver leaves out. */
  private readonly secrets = new Map<string, string>();
  readonly client: S3Client;

  private constructor(
    private readonly backend: S3rver,
    private readonly backendPort: number,
    private readonly proxy: Server,
    private readonly dir: string,
    readonly bucket: string,
  ) {
    this.client = new S3Client({
      endpoint: `http://127.0.0.1:${backendPort}`, region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  static async start(bucket = 'media'): Promise<TestS3Server> {
    const dir = await mkdtemp(join(tmpdir(), 'relay-s3-'));
    const backend = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
    const { port } = (await backend.run()) as AddressInfo;
    const proxy = createServer();
    const server = new TestS3Server(backend, port, proxy, dir, bucket);
    proxy.on('connection', (socket) => {
      if (server.down) return socket.destroy();
      server.sockets.add(socket);
      socket.on('close', () => server.sockets.delete(socket));
    });
    proxy.on('request', (req, res) => server.forward(req, res));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    return server;
  }

  /** The URL the relay's <Storage> block names. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.proxy.address() as AddressInfo).port}`;
  }

  /** Stores an object directly in the backend (no faults). */
  async put(key: string, body: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
  }

  /** Deletes an object directly in the backend (no faults). */
  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** Keys and sizes of the objects under `prefix`. */
  async list(prefix = ''): Promise<Array<{ key: string; size: number }>> {
    const answer = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix }));
    return (answer.Contents ?? []).map((object) => ({ key: object.Key ?? '', size: object.Size ?? 0 }));
  }

  /** Makes s3rver accept another access key and secret (it checks every request's signature). */
  addCredentials(accessKey: string, secretKey: string): void {
    const account = createRequire(import.meta.url)('s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };
    account.DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);
    this.secrets.set(accessKey, secretKey);
  }

  /** Applies `fault` to the next matching requests. */
  fault(fault: S3Fault): void {
    this.faults.push({ ...fault });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** The bucket goes down: open connections are cut and new ones refused, on the same port. */
  stop(): void {
    this.down = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /** The bucket comes back. */
  resume(): void {
    this.down = false;
  }

  /** Body bytes answered to GETs of `key`. */
  bytesServed(key: string): number {
    return this.requests.filter((r) => r.method === 'GET' && r.url.split('?')[0]!.endsWith(`/${key}`)).reduce((sum, r) => sum + r.bytes, 0);
  }

  async close(): Promise<void> {
    this.stop();
    await new Promise<void>((resolve) => this.proxy.close(() => resolve()));
    this.client.destroy();
    await this.backend.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  private takeFault(method: string, url: string): S3Fault | undefined {
    const fault = this.faults.find((f) => f.count > 0 && (!f.method || f.method === method) && (!f.url || url.includes(f.url)));
    if (fault) fault.count--;
    return fault;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const record: S3Request = { method: req.method ?? 'GET', url: req.url ?? '/', range: req.headers.range, bytes: 0, status: 0 };
    this.requests.push(record);
    const problem = signatureProblem(req, (key) => this.secrets.get(key));
    if (problem) {
      req.resume();
      record.status = 403;
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${problem}</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>`);
      return;
    }
    const fault = this.takeFault(record.method, record.url);
    if (fault?.kind === 'status') {
      req.resume();
      const code = fault.status === 503 ? 'SlowDown' : 'InternalError';
      record.status = fault.status;
      res.writeHead(fault.status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>test fault</Message></Error>`);
      return;
    }
    if (fault?.kind === 'denied') {
      // Credentials that were accepted and no longer are (a session token run out, a key revoked).
      req.resume();
      record.status = 403;
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>test fault</Message></Error>`);
      return;
    }
    if (fault?.kind === 'garbage') {
      req.resume();
      record.status = fault.status ?? 500;
      res.writeHead(record.status, { 'content-type': 'application/xml' });
      res.end('<<<not xml at all \u0000\u0001');
      return;
    }
    const upstream = request({ host: '127.0.0.1', port: this.backendPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      record.status = answer.statusCode ?? 0;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.on('data', (chunk: Buffer) => {
        if (fault?.kind === 'cut' && record.bytes + chunk.length > fault.afterBytes) {
          res.write(chunk.subarray(0, Math.max(0, fault.afterBytes - record.bytes)));
          record.bytes = fault.afterBytes;
          res.socket?.destroy();
          answer.destroy();
          return;
        }
        record.bytes += chunk.length;
        if (fault?.kind === 'drip') {
          answer.pause();
          setTimeout(() => answer.resume(), (chunk.length / fault.bytesPerSecond) * 1000);
        }
        res.write(chunk);
      });
      answer.on('end', () => res.end());
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}

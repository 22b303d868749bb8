// CPU per RTP packet of the RTSP client's receive path: socket, interleaved split, track, reorder, depacketize, unit.
// A fake camera on 127.0.0.1 sends a prepared interleaved stream (H.264 over TCP, FU-A packets of 1,400 bytes) as
// fast as the socket takes it; the client in this process counts the units it yields.
// Usage: node --import tsx bench/rtsp-ingest.ts [access units, default 10000] [runs, default 5]
import { RtspAdapter } from '../adapters/rtsp/client.ts';
import type { AdapterSink } from '../adapters/types.ts';
import { frameInterleaved } from '../media/rtsp/interleaved.ts';
import { serializeResponse } from '../media/rtsp/message.ts';
import { FakeRtspServer } from '../test/adapters/rtsp/fake-server.ts';
import { fuA, nal, rtpBytes } from '../test/adapters/rtsp/rtp-builder.ts';
import { makeCameraConfig } from '../test/helpers/camera-config.ts';

const UNITS = Number(process.argv[2] ?? 10_000);
const RUNS = Number(process.argv[3] ?? 5);
/** An IDR of 40 KB every 25th unit, 6 KB otherwise: a 640x480 camera at a few Mbit/s. */
const IDR_BYTES = 40_000;
const P_BYTES = 6_000;

/** The whole stream as interleaved bytes, and its packet count. */
function prepareStream(units: number): { bytes: Buffer; packets: number } {
  const parts: Buffer[] = [];
  let sequence = 0;
  for (let index = 0; index < units; index++) {
    const keyframe = index % 25 === 0;
    const nals = keyframe ? [nal(7, 8), nal(8, 4), nal(5, IDR_BYTES)] : [nal(1, P_BYTES)];
    const payloads = nals.flatMap((unit) => (unit.length > 1400 ? fuA(unit, 1400) : [unit]));
    payloads.forEach((payload, at) => {
      const packet = rtpBytes({ payloadType: 96, sequence: sequence++, timestamp: index * 3600, marker: at === payloads.length - 1 }, payload);
      parts.push(frameInterleaved(0, packet));
    });
  }
  return { bytes: Buffer.concat(parts), packets: sequence };
}

/** One run: µs of this process's CPU per packet, and packets per second of wall time. */
async function run(stream: { bytes: Buffer; packets: number }): Promise<{ cpuUsPerPacket: number; packetsPerSecond: number }> {
  let started: { cpu: NodeJS.CpuUsage; at: number } | undefined;
  // PLAY is answered with the whole stream right behind the reply.
  const server = new FakeRtspServer((request) => {
    if (request.method !== 'PLAY') return undefined;
    started = { cpu: process.cpuUsage(), at: performance.now() };
    return Buffer.concat([serializeResponse(200, 'OK', [['CSeq', request.headers.get('CSeq') ?? '0']]), stream.bytes]);
  });
  server.rate = 0;
  await server.listen();
  let received = 0;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  const controller = new AbortController();
  const sink: AdapterSink = {
    signal: controller.signal,
    onFrame: () => {
      if (++received === UNITS) finished();
    },
    onConnected: () => {},
    onWaiting: () => {},
    log: () => {},
  };
  const outcome = new RtspAdapter(makeCameraConfig(server.url, { readTimeoutMs: 30_000 })).run(sink);
  await done;
  const cpu = process.cpuUsage(started!.cpu);
  const wallMs = performance.now() - started!.at;
  controller.abort();
  await outcome.catch(() => {});
  await server.close();
  return { cpuUsPerPacket: (cpu.user + cpu.system) / stream.packets, packetsPerSecond: (stream.packets * 1000) / wallMs };
}

const stream = prepareStream(UNITS);
console.log(`${UNITS} access units, ${stream.packets} RTP packets, ${(stream.bytes.length / 1e6).toFixed(1)} MB interleaved`);
const results = [];
for (let index = 0; index < RUNS; index++) {
  const result = await run(stream);
  results.push(result);
  console.log(`run ${index + 1}: ${result.cpuUsPerPacket.toFixed(2)} µs CPU per packet, ${Math.round(result.packetsPerSecond)} packets/s`);
}
const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`median: ${median(results.map((r) => r.cpuUsPerPacket)).toFixed(2)} µs CPU per packet, ${Math.round(median(results.map((r) => r.packetsPerSecond)))} packets/s`);

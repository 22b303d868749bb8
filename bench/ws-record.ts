// Records a relay stream's WebSocket (/NAME.ws) in raw mode (what the WebCodecs player gets) and writes its video and
// audio units as an MP4 whose times are exactly the raw headers' microseconds, so ffmpeg measures what the player
// schedules by. Used by av-offset.ts.
import { writeFile } from 'node:fs/promises';
import { audioFragment, FMP4_TIMESCALE, fragment, initSegment, type Fmp4Sample } from '../media/fmp4.ts';
import type { AudioTrack, H264Track } from '../media/types.ts';
import { sleep } from './clock.ts';
import { openWs } from '../test/helpers/ws-client.ts';

/** The NAL units of an AVCC access unit (4-byte lengths). */
function nalUnits(avcc: Buffer): Buffer[] {
  const units: Buffer[] = [];
  for (let at = 0; at + 4 <= avcc.length; at += 4 + avcc.readUInt32BE(at)) units.push(avcc.subarray(at + 4, at + 4 + avcc.readUInt32BE(at)));
  return units;
}

/** `seconds` of `url` (ws://.../NAME.ws) in raw mode with sound, written to `file` (.mp4). */
export async function recordWsRaw(url: string, seconds: number, file: string): Promise<string> {
  const capture = await openWs(url, { version: 1, mode: 'raw', codecs: ['avc1.64001f', 'mp4a.40.2'] });
  await sleep(seconds * 1000);
  capture.socket.close();
  const config = capture.texts.find((text) => text.type === 'config') as { width: number; height: number; description: string; codec: string; audio: { sampleRate: number; channels: number; description: string } | null } | undefined;
  if (!config?.audio) throw new Error(`${url}: no config with sound (${JSON.stringify(capture.texts[0])})`);
  const video = { kind: 'video', codec: 'h264', width: config.width, height: config.height, avcC: Buffer.from(config.description, 'base64'), codecString: config.codec } as unknown as H264Track;
  const sound: AudioTrack = { kind: 'audio', codec: 'aac', clockRate: config.audio.sampleRate, sampleRate: config.audio.sampleRate, channels: config.audio.channels, config: Buffer.from(config.audio.description, 'base64') };
  const frames = capture.binaries.filter((message) => message[0] === 1);
  const parts: Buffer[] = [initSegment(video, sound)];
  let sequence = 0;
  for (const message of capture.binaries) {
    const timeUs = Number(message.readBigUInt64BE(4));
    if (message[0] === 2) {
      parts.push(audioFragment(++sequence, [{ data: message.subarray(12), dts: Math.round((timeUs / 1e6) * sound.sampleRate), duration: 1024 }]));
      continue;
    }
    const next = frames[frames.indexOf(message) + 1];
    const durationUs = next ? Number(next.readBigUInt64BE(4)) - timeUs : 40_000;
    const sample: Fmp4Sample = { nalus: nalUnits(message.subarray(12)), dts: (timeUs / 1e6) * FMP4_TIMESCALE, compositionOffset: 0, duration: (durationUs / 1e6) * FMP4_TIMESCALE, keyframe: (message[1]! & 1) === 1 };
    parts.push(fragment(++sequence, [sample]));
  }
  await writeFile(file, Buffer.concat(parts));
  return file;
}

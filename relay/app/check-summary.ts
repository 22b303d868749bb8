import type { RelayConfig } from '../../conf/types.ts';
import { formatSize, recordBytesPerDay } from '../../conf/sizing.ts';
import { encoderSettings, settingsKey } from '../encoders/ffmpeg-args.ts';

/** Formats that are transcoded (or copied) by a camera's shared encoder; the others pass JPEG frames through. */
const ENCODED_FORMATS = new Set(['flv', 'hls']);

/** What `relay --check` prints after "ok": what the config will run, and the disk each recording fills per day. */
export function configSummary(config: RelayConfig): string[] {
  const formats = new Map<string, number>();
  for (const stream of config.streams) formats.set(stream.format, (formats.get(stream.format) ?? 0) + 1);
  const encoders = new Set(
    config.streams.filter((stream) => stream.feed !== undefined && ENCODED_FORMATS.has(stream.format))
      .map((stream) => `${stream.feed}\n${settingsKey(encoderSettings(stream))}`),
  );
  const recording = config.cameras.filter((camera) => camera.record.enabled);
  const byFormat = [...formats].map(([format, count]) => `${count} ${format}`).join(', ');
  const lines = [
    `cameras: ${config.cameras.length}, streams: ${config.streams.length}${byFormat ? ` (${byFormat})` : ''}, ` +
      `encoders: ${encoders.size}, recordings: ${recording.length}`,
  ];
  let total = 0;
  let counted = 0;
  for (const camera of recording) {
    const perDay = recordBytesPerDay(camera);
    if (perDay === undefined) {
      lines.push(`  record ${camera.name}: RecordCodec copy, disk per day follows the camera's own bit rate`);
      continue;
    }
    total += perDay;
    counted++;
    const kept = camera.record.deleteAfterMs > 0 ? `, kept ${camera.record.deleteAfterMs / 86_400_000} d: about ${formatSize((perDay * camera.record.deleteAfterMs) / 86_400_000)}` : '';
    lines.push(`  record ${camera.name}: about ${formatSize(perDay)} per day at ${camera.record.bitRate} kbit/s${kept}`);
  }
  if (counted > 1) lines.push(`  ${counted === recording.length ? 'all' : 'these'} ${counted} recordings: about ${formatSize(total)} per day`);
  return lines;
}

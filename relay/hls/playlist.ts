import type { HlsPackager, HlsSegment } from './packager.ts';

/** Complete segments whose parts an LL-HLS playlist still lists (the spec asks for the last three target durations). */
const SEGMENTS_WITH_PARTS = 2;

/** EXT-X-TARGETDURATION: whole seconds, at least the configured target and every segment's rounded duration. */
export function targetDuration(packager: HlsPackager): number {
  return Math.max(1, Math.ceil(packager.options.segmentSeconds), Math.round(packager.maxSegmentSeconds));
}

/** Seconds with the precision playlists use. */
function seconds(value: number): string {
  return value.toFixed(3);
}

/** The tags that open a segment: a discontinuity, and in fMP4 its init segment when it differs from the last one. */
function segmentHead(segment: HlsSegment, previous: HlsSegment | undefined, lines: string[]): void {
  if (segment.discontinuity && previous) lines.push('#EXT-X-DISCONTINUITY');
  if (segment.init && segment.init !== previous?.init) lines.push(`#EXT-X-MAP:URI="${segment.init.name}"`);
}

/** The media playlist of a live HLS stream (MPEG-TS segments), or undefined before the first segment is complete. */
export function renderPlaylist(packager: HlsPackager): string | undefined {
  const listed = packager.listed;
  const first = listed[0];
  if (!first) return undefined;
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:6',
    `#EXT-X-TARGETDURATION:${targetDuration(packager)}`,
    `#EXT-X-MEDIA-SEQUENCE:${first.sequence}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${first.discontinuitySequence}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  let previous: HlsSegment | undefined;
  for (const segment of listed) {
    segmentHead(segment, previous, lines);
    lines.push(`#EXTINF:${seconds(segment.duration)},`, segment.name);
    previous = segment;
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The LL-HLS media playlist: the complete segments, the parts of the newest ones and of the segment being filled,
 * and a preload hint for the next part; undefined until a first segment is complete.
 */
export function renderLowLatencyPlaylist(packager: HlsPackager): string | undefined {
  const listed = packager.listed;
  const first = listed[0];
  const open = packager.open;
  if (!first || !open) return undefined;
  const partTarget = packager.options.partSeconds;
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    `#EXT-X-TARGETDURATION:${targetDuration(packager)}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(partTarget * 3)}`,
    `#EXT-X-PART-INF:PART-TARGET=${seconds(partTarget)}`,
    `#EXT-X-MEDIA-SEQUENCE:${first.sequence}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${first.discontinuitySequence}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  let previous: HlsSegment | undefined;
  listed.forEach((segment, i) => {
    segmentHead(segment, previous, lines);
    if (i >= listed.length - SEGMENTS_WITH_PARTS) partLines(segment, lines);
    lines.push(`#EXTINF:${seconds(segment.duration)},`, segment.name);
    previous = segment;
  });
  if (open.parts.length > 0) {
    segmentHead(open, previous, lines);
    partLines(open, lines);
  }
  lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${nextPartName(packager)}"`);
  return `${lines.join('\n')}\n`;
}

function partLines(segment: HlsSegment, lines: string[]): void {
  for (const part of segment.parts) {
    lines.push(`#EXT-X-PART:DURATION=${seconds(part.duration)},URI="${part.name}"${part.independent ? ',INDEPENDENT=YES' : ''}`);
  }
}

/** The name the next part of the open segment will have. */
export function nextPartName(packager: HlsPackager): string {
  const open = packager.open!;
  return `${packager.prefix}${packager.runId}-${open.sequence}.${open.parts.length}.m4s`;
}

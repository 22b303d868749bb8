import { Counter, Gauge, type Registry } from 'prom-client';
import { formatValue, html, live, type Markup } from '../../lib/html.ts';
import type { RecordingsRef } from './recordings.ts';
import { DELETION_REASONS, type DeletionReason } from './retention.ts';
import type { Segment } from './segment-index.ts';
import type { ArchiveStatus } from './archiver.ts';

/** One camera's recordings on /stat.json. */
export interface RecordingCameraStatus {
  name: string;
  /** waiting (for a keyframe or after an error), recording, stalled (no frame for a while), error, stopped; `not recorded` for files of a camera that no longer records. */
  state: string;
  /** Seconds of video missing from the recording since start (stalls, outages, write failures). */
  lostSeconds: number;
  stalls: number;
  bytes: number;
  segments: number;
  oldest: string | null;
  currentSegment: string | null;
  segmentsWritten: number;
  writeErrors: number;
  lastError: { message: string; at: string } | null;
  pageUrl: string;
}

/** Recording totals on /stat.json (`recording`, null when no camera records and nothing is on disk). */
export interface RecordingStatus {
  path: string;
  bytes: number;
  segments: number;
  oldest: string | null;
  freeBytes: number | null;
  minFreeBytes: number;
  maxTotalBytes: number;
  deletions: Record<DeletionReason, { files: number; bytes: number }>;
  writeErrors: number;
  deleteErrors: number;
  cameras: RecordingCameraStatus[];
  /** Uploads to the RecordArchive buckets; null when no camera is archived. */
  archive: ArchiveStatus | null;
}

const sum = (segments: readonly Segment[]): number => segments.reduce((total, segment) => total + segment.bytes, 0);
const oldest = (segments: readonly Segment[]): string | null => (segments[0] ? new Date(segments[0].start).toISOString() : null);

/** The recording part of the status snapshot. */
export function recordingStatus(ref: RecordingsRef): RecordingStatus | null {
  const recordings = ref.current;
  if (!recordings) return null;
  const { index, retention, recorders, config } = recordings;
  const names = [...new Set([...recorders.keys(), ...index.cameras])];
  if (names.length === 0) return null;
  const cameras = names.map((name): RecordingCameraStatus => {
    const segments = index.segments(name);
    const status = recorders.get(name)?.status;
    return {
      name,
      state: status?.state ?? 'not recorded',
      lostSeconds: status?.lostSeconds ?? 0,
      stalls: status?.stalls ?? 0,
      bytes: sum(segments),
      segments: segments.length,
      oldest: oldest(segments),
      currentSegment: status?.currentSegment ?? null,
      segmentsWritten: status?.segmentsWritten ?? 0,
      writeErrors: status?.writeErrors ?? 0,
      lastError: status?.lastError ?? null,
      pageUrl: `/recordings/${name}`,
    };
  });
  const all = index.all().sort((a, b) => a.start - b.start);
  return {
    path: index.root,
    bytes: sum(all),
    segments: all.length,
    oldest: oldest(all),
    freeBytes: retention.freeBytes ?? null,
    minFreeBytes: config.recording.minFreeBytes,
    maxTotalBytes: config.recording.maxTotalBytes,
    deletions: structuredClone(retention.deletions),
    writeErrors: cameras.reduce((total, camera) => total + camera.writeErrors, 0),
    deleteErrors: retention.deleteErrors,
    cameras,
    archive: recordings.archiver ? structuredClone(recordings.archiver.status) : null,
  };
}

/** The recording table on /stat.html: a disk that is full or read-only shows here as the camera's last error. */
export function renderRecordingBlock(status: RecordingStatus | null): Markup {
  if (!status) return html``;
  const rows = status.cameras.map((camera) => html`<tr data-key="recording/${camera.name}">
<td><a href="${camera.pageUrl}">${camera.name}</a></td><td>${live('state', camera.state)}</td>
<td>${live('segments', camera.segments, 'count')}</td><td>${live('bytes', camera.bytes, 'bytes')}</td>
<td>${live('oldest', camera.oldest, 'time')}</td><td>${live('writeErrors', camera.writeErrors, 'count')}</td>
<td class="error">${live('lastError.message', camera.lastError?.message ?? null, 'note')} <small>${live('lastError.at', camera.lastError?.at ?? null, 'note')}</small></td></tr>`);
  const deleted = DELETION_REASONS.map((reason) => html`${reason} ${live(`deletions.${reason}.files`, status.deletions[reason].files, 'count')}`);
  return html`<h2>Recording</h2>
<table class="recording" data-key="recording"><tbody><tr><th>Path</th><td>${status.path}</td>
<th>On disk</th><td>${live('bytes', status.bytes, 'bytes')} in ${live('segments', status.segments, 'count')} segment(s), oldest ${live('oldest', status.oldest, 'time')}</td></tr>
<tr><th>Free</th><td>${live('freeBytes', status.freeBytes, 'bytes')} (keeps ${formatValue(status.minFreeBytes, 'bytes')} free)</td>
<th>Deleted files</th><td>${deleted.map((part, i) => (i === 0 ? part : html`, ${part}`))}</td></tr>${archiveRow(status.archive)}</tbody></table>
<table class="recording-cameras"><thead><tr><th>Camera</th><th>State</th><th>Segments</th><th>Bytes</th><th>Oldest</th><th>Write errors</th><th>Last error</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

/** The archive's line on /stat.html: its queue, what went up, and a bucket that fails. */
function archiveRow(archive: ArchiveStatus | null): Markup {
  if (!archive) return html``;
  return html`<tr data-key="archive"><th>Archive</th><td>${live('state', archive.state)}: ${live('uploaded', archive.uploaded, 'count')} uploaded (${live('uploadedBytes', archive.uploadedBytes, 'bytes')}),
${live('queued', archive.queued, 'count')} queued (${live('queuedBytes', archive.queuedBytes, 'bytes')}), oldest not archived ${live('oldestNotArchived', archive.oldestNotArchived, 'time')}</td>
<th>Archive failures</th><td>${live('failures', archive.failures, 'count')} <span class="error">${live('lastError.code', archive.lastError?.code ?? null, 'note', 'strong')}
${live('lastError.message', archive.lastError?.message ?? null, 'note')}</span></td></tr>`;
}

/** Registers the recording metrics on the relay's registry, read from the status at scrape time. */
export function registerRecordingMetrics(registry: Registry, ref: RecordingsRef): void {
  const read = (): RecordingStatus | null => recordingStatus(ref);
  const gauge = (name: string, help: string, labelNames: string[], values: (status: RecordingStatus) => Array<[Record<string, string>, number]>): void => {
    new Gauge({ name, help, labelNames, registers: [registry], collect() {
      this.reset();
      const status = read();
      if (status) for (const [labels, value] of values(status)) this.set(labels, value);
    } });
  };
  const counter = (name: string, help: string, labelNames: string[], values: (status: RecordingStatus) => Array<[Record<string, string>, number]>): void => {
    new Counter({ name, help, labelNames, registers: [registry], collect() {
      this.reset();
      const status = read();
      if (status) for (const [labels, value] of values(status)) this.inc(labels, value);
    } });
  };
  gauge('relay_recording_bytes', 'Bytes of recordings on disk.', ['camera'], (s) => s.cameras.map((c) => [{ camera: c.name }, c.bytes]));
  gauge('relay_recording_segments', 'Recorded segment files on disk.', ['camera'], (s) => s.cameras.map((c) => [{ camera: c.name }, c.segments]));
  gauge('relay_recording_oldest_timestamp_seconds', 'Start of the oldest recording, Unix seconds.', ['camera'], (s) =>
    s.cameras.filter((c) => c.oldest).map((c) => [{ camera: c.name }, Date.parse(c.oldest!) / 1000]));
  gauge('relay_recording_up', '1 while the camera is being recorded.', ['camera'], (s) => s.cameras.map((c) => [{ camera: c.name }, c.state === 'recording' ? 1 : 0]));
  gauge('relay_recording_free_bytes', 'Free bytes on the recording file system.', [], (s) => (s.freeBytes === null ? [] : [[{}, s.freeBytes]]));
  counter('relay_recording_write_errors_total', 'Segments that could not be written (disk full, unwritable, removed).', ['camera'], (s) =>
    s.cameras.map((c) => [{ camera: c.name }, c.writeErrors]));
  counter('relay_recording_lost_seconds_total', 'Seconds of video missing from the recording (stalls, outages, write failures).', ['camera'], (s) =>
    s.cameras.map((c) => [{ camera: c.name }, c.lostSeconds]));
  counter('relay_recording_deleted_files_total', 'Segments deleted by retention, by reason.', ['reason'], (s) =>
    DELETION_REASONS.map((reason) => [{ reason }, s.deletions[reason].files]));
  gauge('relay_recording_archive_queued_segments', 'Closed segments waiting to be uploaded to the RecordArchive bucket.', [], (s) => (s.archive ? [[{}, s.archive.queued]] : []));
  gauge('relay_recording_archive_queued_bytes', 'Bytes of the segments waiting to be uploaded.', [], (s) => (s.archive ? [[{}, s.archive.queuedBytes]] : []));
  gauge('relay_recording_archive_oldest_pending_timestamp_seconds', 'Start of the oldest segment not yet archived, Unix seconds.', [], (s) =>
    (s.archive?.oldestNotArchived ? [[{}, Date.parse(s.archive.oldestNotArchived) / 1000]] : []));
  counter('relay_recording_archive_uploaded_segments_total', 'Segments uploaded to the RecordArchive bucket.', [], (s) => (s.archive ? [[{}, s.archive.uploaded]] : []));
  counter('relay_recording_archive_uploaded_bytes_total', 'Bytes uploaded to the RecordArchive bucket.', [], (s) => (s.archive ? [[{}, s.archive.uploadedBytes]] : []));
  counter('relay_recording_archive_failures_total', 'Segment uploads that failed (each is retried).', [], (s) => (s.archive ? [[{}, s.archive.failures]] : []));
  counter('relay_recording_deleted_bytes_total', 'Bytes deleted by retention, by reason.', ['reason'], (s) =>
    DELETION_REASONS.map((reason) => [{ reason }, s.deletions[reason].bytes]));
}

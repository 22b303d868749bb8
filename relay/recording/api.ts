import type Router from '@koa/router';
import type { Context } from 'koa';
import { exportFrames, exportMp4, type Export } from './export.ts';
import { segmentCopies } from './archive-fetch.ts';
import type { RecordingRelay, Recordings, RecordingsRef } from './recordings.ts';
import { renderRecordingsPage } from './page.ts';

/** Exports running at once; more get 503 so that downloads cannot starve live encoding of CPU. */
const MAX_CONCURRENT_EXPORTS = 4;
const MAX_FPS = 10;
/** A listed segment's file is looked for again after this long; exports look every time (their ranges are short). */
const LIST_RECHECK_MS = 2000;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const CAMERA_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A refusal of the recording API: a stable `code` for programs, a message for people. */
export class RecordingApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Parses an RFC 3339 time (with a zone) to ms; anything else is a 400 naming the parameter. */
export function parseTime(value: unknown, name: string): number {
  const text = typeof value === 'string' ? value : '';
  const match = RFC3339.exec(text);
  const ms = match ? Date.parse(text.toUpperCase()) : NaN;
  const [, , month, day, hour, minute, second] = match ?? [];
  if (!match || !Number.isFinite(ms) || Number(month) > 12 || Number(day) > 31 || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) {
    throw new RecordingApiError(400, 'BAD_TIME', `${name} must be an RFC 3339 time such as 2026-11-21T12:00:00Z`);
  }
  return ms;
}

/** Parses a duration in seconds, capped by RecordMaxRequestSeconds. */
export function parseDuration(value: unknown, max: number): number {
  const text = typeof value === 'string' ? value : '';
  if (!/^\d{1,9}(\.\d{1,3})?$/.test(text) || Number(text) <= 0) {
    throw new RecordingApiError(400, 'BAD_DURATION', 'duration must be a number of seconds above 0');
  }
  if (Number(text) > max) throw new RecordingApiError(400, 'DURATION_TOO_LONG', `duration is capped at ${max} s (RecordMaxRequestSeconds)`);
  return Number(text) * 1000;
}

/** The recordings and the configured camera a request names; unknown or malformed names are 404. */
function cameraOf(relay: RecordingRelay, ref: RecordingsRef, ctx: Context): { recordings: Recordings; camera: string } {
  const recordings = ref.current;
  const camera = typeof ctx.query.camera === 'string' ? ctx.query.camera : '';
  if (!recordings || !CAMERA_NAME.test(camera) || !relay.config.cameras.some((known) => known.name === camera)) {
    throw new RecordingApiError(404, 'UNKNOWN_CAMERA', 'no such camera');
  }
  return { recordings, camera };
}

/** Drops from the index the segments of the range whose files were deleted outside the relay, and says so in the log. */
function forgetVanished(relay: RecordingRelay, recordings: Recordings, camera: string, from: number, to: number, recheckMs = 0): void {
  const dropped = recordings.index.dropVanished(camera, from, to, recheckMs);
  if (dropped > 0) relay.deps.log.warn(`recordings of ${camera}: ${dropped} segment file(s) deleted outside the relay, dropped from the index`);
}

function single(value: unknown): unknown {
  return Array.isArray(value) ? undefined : value;
}

/**
 * /record/list, /record/get, /record/frames and the page /recordings/CAMERA. Errors are JSON `{ code, message }`;
 * camera names are checked against the config before anything touches the disk.
 */
export function registerRecordingRoutes(router: Router, relay: RecordingRelay, ref: RecordingsRef): void {
  let running = 0;
  const handle = (handler: (ctx: Context) => Promise<void> | void) => async (ctx: Context) => {
    try {
      await handler(ctx);
    } catch (error) {
      if (!(error instanceof RecordingApiError)) throw error;
      ctx.status = error.status;
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = { code: error.code, message: error.message };
    }
  };
  const serveExport = async (ctx: Context, make: () => Promise<Export> | Export): Promise<void> => {
    if (running >= MAX_CONCURRENT_EXPORTS) throw new RecordingApiError(503, 'BUSY', `at most ${MAX_CONCURRENT_EXPORTS} exports at once; try again shortly`);
    running++;
    // The export's ffmpeg counts against MaxProcesses; a client that leaves while waiting gives up its place.
    const left = new AbortController();
    ctx.res.on('close', () => left.abort());
    const releaseSlot = await relay.processSlots.acquire(left.signal);
    if (!releaseSlot) {
      running--;
      return;
    }
    let made: Export;
    try {
      made = await make();
    } catch (error) {
      running--;
      releaseSlot();
      throw error;
    }
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      running--;
      releaseSlot();
      made.cancel();
    };
    made.body.on('end', finish);
    made.body.on('error', finish);
    ctx.res.on('close', finish);
    ctx.body = made.body;
  };
  const range = (ctx: Context, recordings: Recordings): { from: number; to: number } => {
    const from = parseTime(single(ctx.query.start), 'start');
    const to = from + parseDuration(single(ctx.query.duration), recordings.config.recording.maxRequestSeconds);
    return { from, to };
  };

  router.get('/record/list', handle((ctx) => {
    const { recordings, camera } = cameraOf(relay, ref, ctx);
    const from = ctx.query.start === undefined ? -8.64e15 : parseTime(single(ctx.query.start), 'start');
    const to = ctx.query.end === undefined ? 8.64e15 : parseTime(single(ctx.query.end), 'end');
    if (to < from) throw new RecordingApiError(400, 'BAD_TIME', 'end is before start');
    forgetVanished(relay, recordings, camera, from, to, LIST_RECHECK_MS);
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = recordings.index.spans(camera, from, to).map((span) => ({
      start: new Date(span.start).toISOString(),
      duration: Math.round(span.end - span.start) / 1000,
    }));
  }));

  router.get('/record/get', handle(async (ctx) => {
    const { recordings, camera } = cameraOf(relay, ref, ctx);
    const { from, to } = range(ctx, recordings);
    forgetVanished(relay, recordings, camera, from, to);
    const segments = recordings.index.overlapping(camera, from, to);
    if (segments.length === 0) throw new RecordingApiError(404, 'NO_RECORDING', 'nothing was recorded in that range');
    ctx.type = 'video/mp4';
    ctx.set('Content-Disposition', `attachment; filename="${camera}-${new Date(from).toISOString().replaceAll(':', '-')}.mp4"`);
    ctx.set('Cache-Control', 'no-cache');
    const copies = await segmentCopies(recordings, segments);
    // The fetched copies go once the response is over (sent, or the client left).
    ctx.res.once('close', () => void copies.cleanup());
    await serveExport(ctx, () => exportMp4(relay.deps.ffmpeg.path, copies.root, segments, from, to));
  }));

  router.get('/record/frames', handle(async (ctx) => {
    const { recordings, camera } = cameraOf(relay, ref, ctx);
    const { from, to } = range(ctx, recordings);
    const fpsText = single(ctx.query.fps) ?? '1';
    const fps = typeof fpsText === 'string' && /^\d{1,3}(\.\d{1,3})?$/.test(fpsText) ? Number(fpsText) : NaN;
    if (!(fps > 0 && fps <= MAX_FPS)) throw new RecordingApiError(400, 'BAD_FPS', `fps must be above 0 and at most ${MAX_FPS}`);
    forgetVanished(relay, recordings, camera, from, to);
    const segments = recordings.index.overlapping(camera, from, to);
    if (segments.length === 0) throw new RecordingApiError(404, 'NO_RECORDING', 'nothing was recorded in that range');
    ctx.type = 'application/zip';
    ctx.set('Content-Disposition', `attachment; filename="${camera}-${new Date(from).toISOString().replaceAll(':', '-')}.zip"`);
    ctx.set('Cache-Control', 'no-cache');
    const copies = await segmentCopies(recordings, segments);
    // The fetched copies go once the response is over (sent, or the client left).
    ctx.res.once('close', () => void copies.cleanup());
    await serveExport(ctx, () => exportFrames(relay.deps.ffmpeg.path, copies.root, segments, from, to, fps));
  }));

  router.get(/^\/recordings\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/, handle((ctx) => {
    const camera = ctx.path.slice('/recordings/'.length);
    const recordings = ref.current;
    if (!recordings || !relay.config.cameras.some((known) => known.name === camera)) {
      throw new RecordingApiError(404, 'UNKNOWN_CAMERA', 'no such camera');
    }
    const day = typeof ctx.query.day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(ctx.query.day) && Number.isFinite(Date.parse(ctx.query.day)) ? ctx.query.day : undefined;
    if (ctx.query.day !== undefined && !day) throw new RecordingApiError(400, 'BAD_TIME', 'day must be a date such as 2026-11-21');
    forgetVanished(relay, recordings, camera, -8.64e15, 8.64e15, LIST_RECHECK_MS);
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = renderRecordingsPage(camera, recordings, day, Date.now());
  }));
}

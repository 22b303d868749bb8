import { PassThrough } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { BodyError, readJsonObject } from '../http/json-body.ts';
import { RelayError } from '../core/errors.ts';
import { ControlError, type ControlErrorCode, type Ptz } from './backend.ts';
import type { Command, EntrySubscriber } from './controller.ts';
import type { RelayConfig } from '../../conf/types.ts';
import type { ControlHub } from './hub.ts';

/** The relay as the control routes see it: its config of the moment and its control hub. */
export interface ControlledRelay {
  readonly config: RelayConfig;
  readonly control: ControlHub;
}

const MAX_BODY_BYTES = 1024;
const BODY_TIMEOUT_MS = 5_000;
const MAX_ID_LENGTH = 64;
/** A comment line on idle event streams, so that proxies in front do not time them out. */
const KEEPALIVE_MS = 15_000;

const STATUS: Record<ControlErrorCode, number> = {
  BAD_INPUT: 400, NOT_HOLDER: 409, RATE_LIMITED: 429, QUEUE_FULL: 503, TOO_MANY_FROM_ADDRESS: 429, NO_PRESET: 404,
  CAMERA_TIMEOUT: 504, CAMERA_UNREACHABLE: 502, CAMERA_REFUSED: 502, CAMERA_BUSY: 503,
};

function controllerOf(relay: ControlledRelay, ctx: Context) {
  const controller = relay.control.get(ctx.params.camera ?? '');
  if (!controller) throw new RelayError('NOT_FOUND', `no camera with control at ${ctx.path}`);
  return controller;
}

async function body(ctx: Context): Promise<Record<string, unknown>> {
  try {
    return await readJsonObject(ctx.req, MAX_BODY_BYTES, BODY_TIMEOUT_MS);
  } catch (error) {
    if (error instanceof BodyError) throw new ControlError('BAD_INPUT', error.message);
    throw error;
  }
}

function idOf(value: unknown): string {
  // Any string shape is accepted here and simply not found: a forged id is "not the holder", never a crash.
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) throw new ControlError('BAD_INPUT', 'id must be the string /request gave');
  return value;
}

/** A finite number field; `optional` ones fall back to `fallback`. */
function numberField(fields: Record<string, unknown>, name: string, fallback?: number): number {
  const value = fields[name];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ControlError('BAD_INPUT', `${name} must be a finite number`);
  return value;
}

async function commandOf(kind: string, fields: Record<string, unknown>, current: () => Promise<Ptz | undefined>): Promise<Command> {
  if (kind === 'move') return { kind, speeds: { pan: numberField(fields, 'pan', 0), tilt: numberField(fields, 'tilt', 0), zoom: numberField(fields, 'zoom', 0) } };
  if (kind === 'stop') return { kind };
  if (kind === 'preset') {
    const name = fields.name;
    if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,32}$/.test(name)) throw new ControlError('BAD_INPUT', 'name must be a preset name');
    return { kind, name };
  }
  const missing = ['pan', 'tilt', 'zoom'].some((axis) => fields[axis] === undefined);
  const here = missing ? await current() : undefined;
  if (missing && !here) throw new ControlError('BAD_INPUT', 'pan, tilt and zoom are all needed while the camera\'s position is unknown');
  return { kind: 'goto', target: { pan: numberField(fields, 'pan', here?.pan), tilt: numberField(fields, 'tilt', here?.tilt), zoom: numberField(fields, 'zoom', here?.zoom) } };
}

/** Sends a ControlError as JSON with its status; anything else goes on to the edge's error handler. */
async function answering(ctx: Context, work: () => Promise<void>): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  try {
    await work();
  } catch (error) {
    if (!(error instanceof ControlError)) throw error;
    ctx.status = STATUS[error.code];
    if (error.code === 'RATE_LIMITED') ctx.set('Retry-After', '1');
    ctx.body = { error: error.message, code: error.code };
  }
}

/** An event stream on a Koa response. */
function eventStream(ctx: Context): EntrySubscriber & { readonly stream: PassThrough } {
  const stream = new PassThrough();
  const keepalive = setInterval(() => stream.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  stream.once('close', () => clearInterval(keepalive));
  return {
    stream,
    send(event, data) {
      if (!stream.writableEnded) stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      clearInterval(keepalive);
      stream.end();
    },
  };
}

/**
 * Camera control over HTTP, per camera with a control backend:
 * - viewers (the camera's ControlAccess): `GET /api/control/CAM` (queue and presets), `POST .../request` (a place in
 *   the queue and its id), `GET .../events?id=` (Server-Sent Events: place, holder, time left, position; closing it
 *   leaves the queue), `POST .../move|goto|stop|preset|leave` with `{id, ...}` in a JSON body;
 * - the operator (admin plane): `POST .../operator/take` (control now; answers an id), `.../operator/lock|unlock`.
 */
export function registerControlRoutes(router: Router, relay: ControlledRelay): void {
  // Event streams are long-lived connections that every viewer may open: counted per client address (all cameras)
  // and refused past MaxUnauthenticatedPerIP, so that one address cannot hold thousands of them.
  const streamsFrom = new Map<string, number>();
  router.get('/api/control/:camera', async (ctx) => {
    const controller = controllerOf(relay, ctx);
    await controller.backend.findPresets?.();
    const { panRange, tiltRange, zoomRange, holdMs, idleMs } = controller.config;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ...controller.publicState(), ranges: { pan: panRange, tilt: tiltRange, zoom: zoomRange }, holdSeconds: holdMs / 1000, idleSeconds: idleMs / 1000 };
  });

  router.post('/api/control/:camera/request', async (ctx) => {
    const controller = controllerOf(relay, ctx);
    await answering(ctx, async () => {
      const { entry, view } = controller.request(ctx.ip);
      ctx.body = { id: entry.id, label: entry.label, ...view };
    });
  });

  router.get('/api/control/:camera/events', async (ctx) => {
    const controller = controllerOf(relay, ctx);
    const id = typeof ctx.query.id === 'string' ? ctx.query.id : '';
    const limit = relay.config.security.maxUnauthenticatedPerIp;
    const open = streamsFrom.get(ctx.ip) ?? 0;
    if (limit > 0 && open >= limit) {
      ctx.status = 429;
      ctx.set('Retry-After', '10');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: `too many control event streams from this address (${open} open; MaxUnauthenticatedPerIP ${limit})`, code: 'TOO_MANY_FROM_ADDRESS' };
      return;
    }
    const events = eventStream(ctx);
    if (id.length > MAX_ID_LENGTH || !controller.subscribe(id, events)) {
      events.close();
      ctx.status = 404;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: 'no such place in the control queue: ask with /request first', code: 'NOT_HOLDER' };
      return;
    }
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.type = 'text/event-stream';
    ctx.status = 200;
    ctx.body = events.stream;
    streamsFrom.set(ctx.ip, open + 1);
    ctx.res.once('close', () => {
      const left = (streamsFrom.get(ctx.ip) ?? 1) - 1;
      if (left > 0) streamsFrom.set(ctx.ip, left);
      else streamsFrom.delete(ctx.ip);
      events.close();
      controller.unsubscribe(id, events);
    });
  });

  for (const action of ['move', 'goto', 'stop', 'preset', 'leave'] as const) router.post(`/api/control/:camera/${action}`, async (ctx) => {
    const controller = controllerOf(relay, ctx);
    await answering(ctx, async () => {
      const fields = await body(ctx);
      const id = idOf(fields.id);
      if (action === 'leave') {
        if (!controller.leave(id)) throw new ControlError('NOT_HOLDER', 'no such place in the control queue');
        ctx.body = { left: true };
        return;
      }
      if (!controller.queue.isHolder(id)) throw new ControlError('NOT_HOLDER', 'only the viewer holding control may steer the camera');
      const command = await commandOf(action, fields, () => controller.backend.position());
      const position = await controller.command(id, command);
      ctx.body = { ok: true, ptz: position ?? null };
    });
  });

  for (const action of ['take', 'release', 'lock', 'unlock'] as const) router.post(`/api/control/:camera/operator/${action}`, async (ctx) => {
    const controller = controllerOf(relay, ctx);
    await answering(ctx, async () => {
      if (action === 'take') {
        const entry = controller.takeOver(ctx.ip);
        ctx.body = { id: entry.id, label: entry.label };
      } else if (action === 'release') {
        const holder = controller.queue.holder;
        ctx.body = { released: holder?.operator ? controller.leave(holder.id) : false };
      } else {
        controller.setLocked(action === 'lock', ctx.ip);
        ctx.body = { locked: action === 'lock' };
      }
    });
  });
}

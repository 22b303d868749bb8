import { chmod, copyFile, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { ConfigError, formatProblem, parseConfig } from '../../conf/parse.ts';
import type { Logger } from '../../lib/log.ts';
import type { Relay } from '../running/relay.ts';
import { RelayError } from '../core/errors.ts';
import { addBlock, changeBlock, editProblem, removeBlock, type DirectiveEdit, type EditableKind } from './conf-edit.ts';
import { BodyError, readJsonObject } from '../http/json-body.ts';
import { testSource } from './source-test.ts';

const MAX_BODY_BYTES = 64 * 1024;
const BODY_TIMEOUT_MS = 10_000;

/** PUT and DELETE are allowed on /api/cameras/NAME and /api/streams/NAME only. */
export function isConfigApiWrite(method: string, path: string): boolean {
  return (method === 'PUT' || method === 'DELETE') && /^\/api\/(cameras|streams)\/[^/]+$/.test(path);
}

/** How the relay applies a changed relay.conf: its reload (which refuses an invalid file and keeps running). */
export type ConfigReload = () => Promise<void>;

/** The config changes of one relay, run one at a time: two requests never edit the same text. */
interface ChangeQueue {
  last: Promise<unknown>;
}

/**
 * /api/cameras and /api/streams: list, add (POST), change (PUT, directives merged in place) and remove (DELETE)
 * Camera and Stream blocks of relay.conf. A change is checked as relay.conf is, written atomically with the previous
 * file kept as relay.conf.bak, then applied by `reload`. Admin plane only (the access guard owns /api/).
 */
export function registerConfigApi(router: Router, relay: Relay, schemes: readonly string[], log: Logger, reload: ConfigReload): void {
  registerSourceTest(router, relay, log);
  const queue: ChangeQueue = { last: Promise.resolve() };
  const change = { queue, schemes, log, reload };
  for (const [path, kind] of [['cameras', 'Camera'], ['streams', 'Stream']] as const) {
    router.get(`/api/${path}`, (ctx) => {
      ctx.body = kind === 'Camera' ? relay.config.cameras.map(({ name, line, source, scheme, onDemand, record }) => ({ name, line, source, scheme, onDemand, record: record.enabled }))
        : relay.config.streams.map(({ name, line, format, feed }) => ({ name, line, format, feed: feed ?? null }));
    });
    router.post(`/api/${path}`, async (ctx) => {
      const body = await readBody(ctx);
      const name = typeof body.name === 'string' ? body.name : '';
      await edit(ctx, relay, change, kind, name, body.directives, (text, directives) => addBlock(text, kind, name, directives), true);
    });
    router.put(`/api/${path}/:name`, async (ctx) => {
      const name = ctx.params.name ?? '';
      const body = await readBody(ctx);
      await edit(ctx, relay, change, kind, name, body.directives, (text, directives) => changeBlock(text, kind, name, directives), false);
    });
    router.delete(`/api/${path}/:name`, async (ctx) => {
      const name = ctx.params.name ?? '';
      await edit(ctx, relay, change, kind, name, {}, (text) => removeBlock(text, kind, name), false);
    });
  }
}

/** POST /api/cameras/test `{source, username?, password?}`: connects once and answers codec, size, rate and a snapshot. */
function registerSourceTest(router: Router, relay: Relay, log: Logger): void {
  // One source test at a time: a test holds a connection (and maybe an ffmpeg) for seconds.
  let testing = false;
  router.post('/api/cameras/test', async (ctx) => {
    const body = await readBody(ctx, 4096);
    const text = (key: string): string | undefined => {
      const value = body[key];
      if (value === undefined || value === null || value === '') return undefined;
      if (typeof value !== 'string') throw new RelayError('BAD_REQUEST', `${key} must be a string`);
      return value;
    };
    const source = text('source');
    if (!source) throw new RelayError('BAD_REQUEST', 'source: required, e.g. rtsp://camera/stream');
    if (testing) throw new RelayError('FULL', 'another source test is under way; try again in a few seconds');
    testing = true;
    try {
      const { deps, processSlots, config } = relay;
      const env = { ffmpegPath: deps.ffmpeg.path, processSlots, mediaPath: config.mediaPath };
      const { status, body: answer } = await testSource({ source, username: text('username'), password: text('password') }, deps.adapters, env);
      log.info(`source test of a ${source.split(':')[0]}:// source: ${answer.error ?? `${answer.codec} ${answer.width}x${answer.height}`}`);
      ctx.status = status;
      ctx.body = answer;
    } finally {
      testing = false;
    }
  });
}

async function readBody(ctx: Context, maxBytes = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  try {
    return await readJsonObject(ctx.req, maxBytes, BODY_TIMEOUT_MS);
  } catch (error) {
    if (error instanceof BodyError) throw new RelayError('BAD_REQUEST', error.message);
    throw error;
  }
}

/** `{"Directive": "value" | ["value", ...] | null}` as edits; anything else is a 400. */
function parseDirectives(value: unknown, adding: boolean): Map<string, DirectiveEdit> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RelayError('BAD_REQUEST', 'directives must be an object of directive names to values');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 100) throw new RelayError('BAD_REQUEST', 'at most 100 directives at once');
  const edits = new Map<string, DirectiveEdit>();
  for (const [directive, raw] of entries) {
    if (raw === null && !adding) edits.set(directive, null);
    else if (typeof raw === 'string') edits.set(directive, [raw]);
    else if (Array.isArray(raw) && raw.length > 0 && raw.length <= 100 && raw.every((item) => typeof item === 'string')) edits.set(directive, raw as string[]);
    else throw new RelayError('BAD_REQUEST', `${directive.slice(0, 64)}: the value must be a string, a list of strings${adding ? '' : ' or null'}`);
  }
  return edits;
}

async function edit(
  ctx: Context, relay: Relay, change: { readonly queue: ChangeQueue; readonly schemes: readonly string[]; readonly log: Logger; readonly reload: ConfigReload },
  kind: EditableKind, name: string, rawDirectives: unknown,
  apply: (text: string, directives: Map<string, DirectiveEdit>) => string | undefined, adding: boolean,
): Promise<void> {
  const directives = parseDirectives(rawDirectives, adding);
  const problem = editProblem(name, directives);
  if (problem) throw new RelayError('BAD_REQUEST', problem);
  const { queue, schemes, log, reload } = change;
  const run = queue.last.catch(() => {}).then(async () => {
    const file = relay.config.file;
    const before = await readFile(file, 'utf8');
    const after = apply(before, directives);
    if (after === undefined) throw new RelayError('NOT_FOUND', `no <${kind} ${name}> in ${file}`);
    try {
      parseConfig(after, file, { schemes });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return { status: 400, body: { error: 'the change would make relay.conf invalid; nothing was written', problems: error.problems.map(formatProblem) } };
    }
    await writeAtomically(file, after);
    try {
      await reload();
    } catch (error) {
      // The file on disk must be the config that runs: a change the reload refuses is undone.
      await writeAtomically(file, before);
      const problems = error instanceof ConfigError ? error.problems.map(formatProblem) : [(error as Error).message];
      return { status: 409, body: { error: 'the reload refused the change; relay.conf was restored', problems } };
    }
    log.info(`${ctx.method} ${ctx.path}: relay.conf changed (${kind} ${name}), previous file kept as ${file}.bak`);
    return { status: adding ? 201 : 200, body: { ok: true, kind, name } };
  });
  queue.last = run;
  const { status, body } = await run;
  ctx.status = status;
  ctx.body = body;
}

/** Keeps the current file as FILE.bak, writes the new text to a temporary file beside it, syncs it, renames it over. */
async function writeAtomically(file: string, text: string): Promise<void> {
  await copyFile(file, `${file}.bak`);
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await chmod(temporary, (await stat(file)).mode & 0o777);
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file).catch(async (error: unknown) => {
    await unlink(temporary).catch(() => {});
    throw error;
  });
}

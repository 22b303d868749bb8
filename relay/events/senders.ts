import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { StderrTail } from '../../lib/stderr-tail.ts';

/** One way of handing an event's JSON to the outside: a POST, a command run. Rejects with a safe message. */
export interface EventSender {
  /** What /stat.html shows: the webhook's origin and path (never its query), or the command's program. */
  readonly label: string;
  readonly kind: 'webhook' | 'exec';
  send(body: string, type: string, timeoutMs: number, signal: AbortSignal): Promise<void>;
}

/** The HMAC-SHA256 of the body under the secret, as the X-Relay-Signature header carries it. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A webhook: a JSON POST, signed when a secret is set; redirects are not followed; any 2xx is success. */
export function webhookSender(url: string, secret: string | undefined): EventSender {
  const parsed = new URL(url);
  return {
    label: `${parsed.origin}${parsed.pathname}`,
    kind: 'webhook',
    async send(body, type, timeoutMs, signal) {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'camera-relay', 'x-relay-event': type };
      if (secret !== undefined) headers['x-relay-signature'] = signBody(body, secret);
      const timeout = AbortSignal.timeout(timeoutMs);
      let response: Response;
      try {
        response = await fetch(url, { method: 'POST', body, headers, redirect: 'error', signal: AbortSignal.any([timeout, signal]) });
        await response.arrayBuffer();
      } catch (error) {
        if (timeout.aborted) throw new Error(`no answer within ${timeoutMs / 1000} s`);
        throw new Error(describeFetchError(error));
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    },
  };
}

/** undici hides the socket's error code in `cause`; that code (ECONNREFUSED ...) is what an operator can act on. */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message.slice(0, 200);
  return (error as Error).message?.slice(0, 200) ?? 'failed';
}

/**
 * OnEventExec: the program runs without a shell, the event JSON on its stdin and in RELAY_EVENT (with RELAY_EVENT_TYPE
 * and RELAY_EVENT_SUBJECT); exit status 0 is success. The relay's own environment is not passed on, only PATH, HOME and LANG.
 */
export function execSender(argv: readonly string[]): EventSender {
  const [program, ...args] = argv as [string, ...string[]];
  return {
    label: program,
    kind: 'exec',
    send(body, type, timeoutMs, signal) {
      const event = JSON.parse(body) as { subject?: string };
      const env: Record<string, string> = { RELAY_EVENT: body, RELAY_EVENT_TYPE: type, RELAY_EVENT_SUBJECT: String(event.subject ?? '') };
      for (const name of ['PATH', 'HOME', 'LANG']) if (process.env[name] !== undefined) env[name] = process.env[name]!;
      return new Promise<void>((resolve, reject) => {
        const child = spawn(program, args, { stdio: ['pipe', 'ignore', 'pipe'], env });
        const tail = new StderrTail(5, 200);
        let outcome: string | undefined;
        const kill = (why: string): void => {
          outcome ??= why;
          child.kill('SIGKILL');
        };
        const timer = setTimeout(() => kill(`no exit within ${timeoutMs / 1000} s`), timeoutMs);
        const onAbort = (): void => kill('relay stopping');
        signal.addEventListener('abort', onAbort, { once: true });
        child.stderr.on('data', (chunk: Buffer) => tail.push(chunk));
        // A command that does not read its stdin is fine: it has the event in RELAY_EVENT.
        child.stdin.on('error', () => {});
        child.stdin.end(body);
        child.on('error', (error: NodeJS.ErrnoException) => {
          outcome ??= `cannot run: ${error.code ?? error.message}`;
        });
        child.on('close', (code, exitSignal) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          if (outcome === undefined && code === 0) return resolve();
          const detail = tail.lastLine ? `: ${tail.lastLine}` : '';
          reject(new Error(outcome ?? (code !== null ? `exit status ${code}${detail}` : `killed by ${exitSignal}${detail}`)));
        });
      });
    },
  };
}

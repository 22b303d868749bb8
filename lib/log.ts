/** One line per event: an ISO time, a level, the component, then the message. */
export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  child(component: string): Logger;
}

type Write = (line: string) => void;

/** Masks user:password@ in URLs and password=... parameters, as a last line of defence for credentials in logs. */
export function redact(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*):([^/@\s]*)@/gi, '$1$2:***@')
    .replace(/((?:password|passwd|pwd)=)[^&\s]*/gi, '$1***');
}

/** `text`: one readable line per event; `json`: one JSON object per line (time, level, component, message). */
export type LogFormat = 'text' | 'json';

const LEVEL_RANK: Record<LogLevel, number> = { info: 0, warn: 1, error: 2 };

/** Read at every line, so that a reload can change them while loggers are in use. */
export interface LogOptions {
  /** Lines below this level are dropped; default info. */
  readonly level?: () => LogLevel;
  readonly format?: () => LogFormat;
}

export function createLogger(component = 'relay', write: Write = (line) => process.stderr.write(`${line}\n`), options: LogOptions = {}): Logger {
  const emit = (level: LogLevel, message: string): void => {
    if (LEVEL_RANK[level] < LEVEL_RANK[options.level?.() ?? 'info']) return;
    const time = new Date().toISOString();
    const safe = redact(message);
    write(options.format?.() === 'json'
      ? JSON.stringify({ time, level, component, message: safe })
      : `${time} ${level.padEnd(5)} ${component}: ${safe.replace(/\n/g, ' | ')}`);
  };
  return {
    info: (message) => emit('info', message),
    warn: (message) => emit('warn', message),
    error: (message) => emit('error', message),
    child: (name) => createLogger(`${component}/${name}`, write, options),
  };
}

/** A logger that drops everything, for tests that do not read logs. */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

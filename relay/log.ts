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

export function createLogger(component = 'relay', write: Write = (line) => process.stderr.write(`${line}\n`)): Logger {
  const emit = (level: LogLevel, message: string): void => {
    write(`${new Date().toISOString()} ${level.padEnd(5)} ${component}: ${redact(message).replace(/\n/g, ' | ')}`);
  };
  return {
    info: (message) => emit('info', message),
    warn: (message) => emit('warn', message),
    error: (message) => emit('error', message),
    child: (name) => createLogger(`${component}/${name}`, write),
  };
}

/** A logger that drops everything, for tests that do not read logs. */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

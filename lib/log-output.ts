import { closeSync, openSync, writeSync } from 'node:fs';
import { createLogger, type LogFormat, type Logger, type LogLevel } from './log.ts';

/** LogLevel, LogFormat and LogFile of relay.conf. */
export interface LogSettings {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Appended to; undefined writes to stderr (for systemd's journal). */
  readonly file: string | undefined;
}

/**
 * Where the relay's log lines go, changeable while running: `apply` takes new settings on reload, `reopen` opens the
 * LogFile again by name, so that after logrotate moves the file a SIGHUP starts a new one.
 */
export class LogOutput {
  private settings: LogSettings = { level: 'info', format: 'text', file: undefined };
  private fd: number | undefined;

  /** The root logger; every child follows later settings too. */
  readonly log: Logger = createLogger('relay', (line) => this.write(line), { level: () => this.settings.level, format: () => this.settings.format });

  apply(settings: LogSettings): void {
    const fileChanged = settings.file !== this.settings.file;
    this.settings = settings;
    if (fileChanged) this.reopen();
  }

  reopen(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const file = this.settings.file;
    if (file === undefined) return;
    try {
      this.fd = openSync(file, 'a', 0o640);
    } catch (error) {
      // The relay goes on logging to stderr rather than not at all, and says why once.
      this.log.error(`LogFile ${file}: cannot open (${(error as NodeJS.ErrnoException).code ?? String(error)}); logging to stderr`);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private write(line: string): void {
    if (this.fd === undefined) {
      process.stderr.write(`${line}\n`);
      return;
    }
    try {
      writeSync(this.fd, `${line}\n`);
    } catch {
      process.stderr.write(`${line}\n`);
    }
  }
}

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, formatProblem } from '../../conf/parse.ts';
import { FfmpegNotFoundError, locateFfmpeg } from '../encoders/ffmpeg-locate.ts';
import { TlsSetupError } from '../http/tls.ts';
import { hashPasswordCommand, signUrl } from '../auth/cli-commands.ts';
import { configSummary } from './check-summary.ts';
import { discoverCommand } from './discover.ts';
import type { Logger } from '../../lib/log.ts';
import { LogOutput } from '../../lib/log-output.ts';
import { isViewerGone } from './server.ts';
import { loadConfig, startRelay } from './main.ts';
import { RELAY_VERSION } from './status.ts';

const HELP = `relay ${RELAY_VERSION}: pull each camera once, serve FLV, HLS and MJPEG to many viewers

usage:
  relay [-c FILE]        run the relay (default: ./relay.conf, else ./relay.conf.example)
  relay --check FILE     validate a config, print every error, exit 1 if any (like nginx -t)
  relay --hash-password  read a password from stdin or a prompt, print its hash for AdminUser/AdminToken
  relay [-c FILE] --sign-url URL [--expires SECONDS]
                         print URL with a viewer token valid for SECONDS (default 3600), signed with the
                         config's ViewerTokenSecret
  relay --discover [--probe HOST:PORT] [--username U --password P] [--timeout SECONDS]
                         find ONVIF cameras (WS-Discovery, or one device at HOST:PORT) and print a
                         <Camera> block for each
  relay --help           this text
  relay --version        print the version

signals: SIGINT/SIGTERM stop gracefully, SIGHUP reloads the config file.`;

/** How long a graceful stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 5_000;

function defaultConfigFile(): string {
  if (existsSync('relay.conf')) return 'relay.conf';
  if (existsSync('relay.conf.example')) return 'relay.conf.example';
  return 'relay.conf';
}

export async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        check: { type: 'string' },
        'hash-password': { type: 'boolean' },
        'sign-url': { type: 'string' },
        expires: { type: 'string' },
        discover: { type: 'boolean' },
        probe: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`relay: ${(error as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (options.version) {
    process.stdout.write(`relay ${RELAY_VERSION}\n`);
    return 0;
  }
  if (options.check !== undefined) return check(options.check);
  if (options.discover) {
    const seconds = Number(options.timeout ?? '3');
    const credentials = { username: options.username, password: options.password };
    return discoverCommand({ probe: options.probe, credentials, timeoutMs: Number.isFinite(seconds) && seconds > 0 ? Math.min(60, seconds) * 1000 : 3000 }, process.stdout, process.stderr);
  }
  if (options['hash-password']) return hashPasswordCommand(process.stdin, process.stdout, process.stderr);
  if (options['sign-url'] !== undefined) return signUrlCommand(options.config ?? defaultConfigFile(), options['sign-url'], options.expires ?? '3600');
  const file = options.config ?? defaultConfigFile();
  const output = new LogOutput();
  const log = output.log;
  let config;
  try {
    const parsed = loadConfig(file);
    output.apply(parsed.config.log);
    for (const warning of parsed.warnings) log.warn(formatProblem(warning));
    config = parsed.config;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nrelay: ${file}: ${error.problems.length} error(s); not started\n`);
      return 1;
    }
    throw error;
  }
  log.info(`relay ${RELAY_VERSION} starting with ${file}`);
  routeProcessErrorsToLog(log);
  let running;
  try {
    running = await startRelay(config, log);
  } catch (error) {
    if (error instanceof FfmpegNotFoundError || error instanceof TlsSetupError || (error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      log.error((error as Error).message);
      return 1;
    }
    throw error;
  }
  const relay = running;
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      log.info(`${signal}: stopping`);
      setTimeout(() => {
        log.error(`stop took over ${STOP_DEADLINE_MS / 1000} s; exiting anyway`);
        resolve(1);
      }, STOP_DEADLINE_MS).unref();
      void relay.stop().then(() => {
        log.info('stopped');
        output.close();
        resolve(0);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGHUP', () => {
      // LogFile is opened again by name first, so that a file moved by logrotate is left to it and a new one begins.
      output.reopen();
      log.info('SIGHUP: reloading');
      relay.reload().then(() => output.apply(relay.relay.config.log)).catch((error: unknown) => {
        if (error instanceof ConfigError) log.error(`reload rejected, keeping the running config:\n${error.message}`);
        else log.error(`reload failed: ${(error as Error).message}`);
      });
    });
  });
}

/**
 * Node prints uncaught errors as raw stacks; here they become one log line each. A socket that a viewer reset
 * without anyone listening is not worth dying for; anything else is a bug, so the process exits for its supervisor.
 */
function routeProcessErrorsToLog(log: Logger): void {
  process.on('uncaughtException', (error: Error) => {
    if (isViewerGone(error)) return;
    log.error(`uncaught: ${(error.stack ?? String(error)).replace(/\n\s*/g, ' | ')}`);
    process.exit(1);
  });
  process.on('unhandledRejection', (reason: unknown) => {
    log.error(`unhandled rejection: ${String((reason as Error)?.stack ?? reason).replace(/\n\s*/g, ' | ')}`);
  });
}

async function check(file: string): Promise<number> {
  try {
    const { config, warnings } = loadConfig(file);
    for (const warning of warnings) process.stdout.write(`warning: ${formatProblem(warning)}\n`);
    // The config names an ffmpeg: it must run, or the relay would only fail at start.
    if (config.ffmpegPath !== undefined) await locateFfmpeg(config.ffmpegPath);
    process.stdout.write(`${file}: ok\n`);
    for (const line of configSummary(config)) process.stdout.write(`${line}\n`);
    return 0;
  } catch (error) {
    if (error instanceof FfmpegNotFoundError) {
      process.stderr.write(`${file}: FFmpegPath: ${error.message}\n${file}: 1 error(s)\n`);
      return 1;
    }
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n${file}: ${error.problems.length} error(s)\n`);
    return 1;
  }
}

function signUrlCommand(file: string, url: string, expires: string): number {
  try {
    process.stdout.write(`${signUrl(loadConfig(file).config, url, expires)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`relay: ${(error as Error).message}\n`);
    return 1;
  }
}

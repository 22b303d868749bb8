import type { Server } from 'node:http';
import { createAdapterRegistry, knownSchemes } from '../../adapters/index.ts';
import type { AdapterRegistry } from '../../adapters/registry.ts';
import { ConfigError, parseConfigFile, type ParseResult } from '../../conf/parse.ts';
import type { RelayConfig } from '../../conf/types.ts';
import { locateFfmpeg, type FfmpegInfo } from '../encoders/ffmpeg-locate.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { Relay } from '../running/relay.ts';
import { startRecordings, type RecordingsRef } from '../recording/recordings.ts';
import { RtspEdge } from '../rtsp/relay-edge.ts';
import { cameraPartFactory } from './camera-part-factory.ts';
import { createOutputRegistry } from './output-protocols.ts';
import type { OutputRegistry } from '../outputs/registry.ts';
import { createApp, listen } from './server.ts';
import { limitConnections } from '../http/connection-limits.ts';
import { listenHttps } from '../http/tls.ts';
import { restartNeeded, securityNotices } from './notices.ts';
import { ProtocolHttp } from '../http/protocol-hooks.ts';
import { EventBus } from '../../lib/event-bus.ts';
import { Alerts } from '../events/alerts.ts';
import { watchCertificate } from '../events/certificate.ts';

/** A running relay with its HTTP server. */
export interface RunningRelay {
  readonly relay: Relay;
  readonly server: Server;
  readonly port: number;
  /** The HTTPS port when HTTPSPort is set. */
  readonly httpsPort: number | undefined;
  readonly ffmpeg: FfmpegInfo;
  /** The RTSP edge, when RTSPPort is set. */
  readonly rtsp: RtspEdge | undefined;
  /** Re-reads the config file; an invalid file is rejected (ConfigError) and the running config stays. */
  reload(): Promise<void>;
  /** Stops accepting, ends viewer responses, stops ffmpeg children and adapters. Safe to call twice. */
  stop(): Promise<void>;
}

export function loadConfig(file: string, schemes: readonly string[] = knownSchemes): ParseResult {
  return parseConfigFile(file, { schemes });
}

/** Starts a relay from a parsed config: finds ffmpeg, starts feeds and streams, listens. */
export async function startRelay(
  config: RelayConfig,
  log: Logger = createLogger(),
  adapters: AdapterRegistry = createAdapterRegistry(),
  outputs: OutputRegistry = createOutputRegistry(),
): Promise<RunningRelay> {
  const ffmpeg = await locateFfmpeg(config.ffmpegPath);
  log.info(`using ffmpeg ${ffmpeg.version} at ${ffmpeg.path} (from ${ffmpeg.origin})`);
  const events = new EventBus();
  const relay = new Relay(config, { ffmpeg, adapters, outputs, parts: cameraPartFactory(ffmpeg), log, events });
  // Subscribed before the feeds start, so that their first "live" is sent.
  const alerts = new Alerts(events, () => relay.config.events, log.child('events'));
  relay.alerts = alerts;
  await relay.start();
  const recordingsNow: RecordingsRef = { current: undefined };
  let recordings = await startRecordings(relay, log, recordingsNow);
  // What output protocols add to the HTTP edge (routes, upgrades) as they start, after the app is built.
  const protocolHttp = new ProtocolHttp();
  // The config API applies its changes by the reload below, set once the relay runs.
  let reloadConfig: (() => Promise<void>) | undefined;
  const app = createApp(relay, log.child('http'), { recordings: recordingsNow, protocols: protocolHttp, reloadConfig: async () => reloadConfig?.() });
  let listening;
  try {
    listening = await listen(app, config.httpPort, config.httpBindAddress);
  } catch (error) {
    // A relay that cannot listen (port in use) leaves nothing behind: no encoders, no HLS directory.
    await recordings.stop();
    await relay.stop();
    throw error;
  }
  const { server, port } = listening;
  protocolHttp.attach(server, app);
  log.info(`serving on http://${config.httpBindAddress}:${port}/ (${config.cameras.length} cameras, ${config.streams.length} streams)`);
  try {
    await relay.startProtocolServers(protocolHttp);
  } catch (error) {
    // The RTSP port is taken or not ours: stop what started, as a failed HTTP listen would.
    server.close();
    await recordings.stop();
    await relay.stop();
    throw error;
  }
  const rtspServer = relay.protocolServer('rtsp');
  const rtsp = rtspServer instanceof RtspEdge ? rtspServer : undefined;
  server.headersTimeout = config.security.requestHeaderTimeoutMs;
  const security = () => relay.config.security;
  relay.access.connectionLimits.push(limitConnections(server, security));
  const https = await listenHttps(app, security, config.httpBindAddress, log.child('https')).catch(async (error: unknown) => {
    server.close();
    await recordings.stop();
    await relay.stop();
    throw error;
  });
  if (https) {
    relay.access.connectionLimits.push(https.limits);
    protocolHttp.attach(https.server, app);
  }
  const announce = (notices: string[]): void => {
    relay.notices = notices;
    for (const notice of notices) log.warn(notice);
  };
  announce(securityNotices(config));
  const certificate = watchCertificate(security, events, log.child('https'));
  let stopping: Promise<void> | undefined;
  // Reloads run one at a time; any number of requests that arrive during one become a single reload after it.
  let current: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;
  const reloadOnce = async (): Promise<void> => {
    queued = undefined;
    try {
      const { config: next, warnings } = loadConfig(relay.config.file, adapters.schemes);
      for (const warning of warnings) log.warn(`${warning.file}:${warning.line}: ${warning.message}`);
      // Checked before the recorders hand over, so a refused reload leaves them writing.
      const collision = relay.reloadCollision(next);
      if (collision) throw new ConfigError([collision]);
      // Recorders hold the encoders of their cameras, which a reload may replace: those of changed cameras restart
      // with the new config; the others go on writing their open segments.
      const carried = await recordings.handOver(next);
      try {
        await relay.reload(next);
        // A Control* change restarts that camera's control, and nothing else of the camera.
        await relay.control.reconcile();
        const pending = restartNeeded(config, next).map((change) => `${change}: needs a restart to take effect; the running relay keeps the old value`);
        announce([...securityNotices(next), ...pending]);
      } finally {
        recordings = await startRecordings(relay, log, recordingsNow, carried);
      }
    } finally {
      // Renewed certificates are picked up on SIGHUP even when the config itself is unchanged or rejected.
      await https?.reloadCertificates(relay.config.security);
      await certificate.check();
    }
  };
  const running: RunningRelay = {
    relay,
    server,
    port,
    httpsPort: https?.port,
    ffmpeg,
    rtsp,
    reload() {
      if (queued) return queued;
      queued = current.catch(() => {}).then(reloadOnce);
      current = queued;
      return queued;
    },
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Viewers of every protocol end first, then recordings, outputs and cameras; sockets close last.
        await relay.closeProtocolServers();
        await recordings.stop();
        await relay.stop();
        certificate.close();
        alerts.close();
        server.closeAllConnections();
        await Promise.all([closed, https?.close()]);
      })();
      return stopping;
    },
  };
  // /api/cameras and /api/streams apply what they write as SIGHUP would.
  reloadConfig = () => running.reload();
  return running;
}

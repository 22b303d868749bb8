import { isIP } from 'node:net';
import type { RelayConfig } from '../../conf/types.ts';
import type { VideoUnit } from '../../media/types.ts';
import { unmapIpv4 } from '../../lib/address.ts';

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(address: string): boolean {
  const bare = unmapIpv4(address.replace(/^\[|\]$/g, '').toLowerCase());
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/**
 * Settings that expose the relay more than the operator likely meant, one sentence each, for the log at start and
 * reload and for /stat.html. Behind a TLS proxy the relay listens on loopback, and none of these applies.
 */
export function securityNotices(config: RelayConfig): string[] {
  const notices: string[] = [];
  const { adminUsers, adminTokens, httpsPort, redirectToHttps } = config.security;
  const exposed = [config.httpBindAddress, ...(config.rtspPort > 0 ? [config.rtspBindAddress] : [])].filter((address) => !isLoopback(address));
  if (exposed.length > 0 && adminUsers.length === 0 && adminTokens.length === 0) {
    notices.push(`listening on ${[...new Set(exposed)].join(', ')} (beyond loopback) with no AdminUser or AdminToken: ` +
      'anyone who reaches the relay can use its admin pages and APIs; set AdminUser (see relay --hash-password)');
  }
  if (!isLoopback(config.httpBindAddress) && adminUsers.length > 0 && !redirectToHttps) {
    notices.push(`AdminUser passwords are accepted by HTTP Basic over plain HTTP on ${config.httpBindAddress}, where anyone on the path can read them: ` +
      (httpsPort > 0 ? 'set RedirectToHTTPS yes' : 'serve through a TLS proxy on loopback, or set HTTPSPort and RedirectToHTTPS yes'));
  }
  return notices;
}

/** Directives read once at start: a reload cannot apply them, only a restart. */
const RESTART_DIRECTIVES: ReadonlyArray<[string, (config: RelayConfig) => unknown]> = [
  ['HTTPPort', (c) => c.httpPort],
  ['HTTPBindAddress', (c) => c.httpBindAddress],
  ['HTTPSPort', (c) => c.security.httpsPort],
  ['RTSPPort', (c) => c.rtspPort],
  ['RTSPBindAddress', (c) => c.rtspBindAddress],
  ['RTSPUDPPortRange', (c) => c.rtspUdpPortRange.join('-')],
  ['RTSPSessionTimeout', (c) => c.rtspSessionTimeoutMs / 1000],
  ['MaxProcesses', (c) => c.maxProcesses],
  ['FFmpegPath', (c) => c.ffmpegPath ?? '(default)'],
  ['RecordPath', (c) => c.recording.path],
  ['VodCachePath', (c) => c.vodCachePath ?? '(default)'],
];

/** The directives whose value in `next` differs from the one the running process started with, as "Name old -> new". */
export function restartNeeded(running: RelayConfig, next: RelayConfig): string[] {
  return RESTART_DIRECTIVES.filter(([, read]) => read(running) !== read(next))
    .map(([name, read]) => `${name} ${String(read(running))} -> ${String(read(next))}`);
}

/**
 * What the operator should know about a camera's picture as last received, or null: an SPS the relay could not read
 * (the picture size is then unknown, so VideoCodec copy cannot serve it and transcoded streams depend on ffmpeg).
 */
export function pictureNotice(track: VideoUnit['track'] | undefined): string | null {
  if (track?.codec !== 'h264' || track.spsProblem === undefined) return null;
  return `${track.spsProblem}: picture size unknown; VideoCodec copy streams cannot serve it, transcoded streams play only if ffmpeg can read it`;
}

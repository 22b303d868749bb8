import { Viewer } from '../core/viewer.ts';
import type { RtspConnection, RtspReply } from './connection.ts';
import { sessionIdOf, type RtspRequest } from './request.ts';
import { RtspReader, TcpDelivery, UdpDelivery, type Delivery } from './reader.ts';
import { buildSdp } from '../../media/rtsp/sdp-write.ts';
import type { RtspMount, RtspServer } from './server.ts';
import { RtspSession } from './session.ts';
import { chooseTransport } from './transport.ts';
import { AUDIO_TRACK } from './rtp-payloaders.ts';

const PUBLIC_METHODS = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER';
/** RTSP/1.0 methods the relay knows and does not serve (it only plays streams out). */
const NOT_ALLOWED = new Set(['ANNOUNCE', 'RECORD', 'REDIRECT', 'SET_PARAMETER']);
/** The track's control URL, relative to the Content-Base. */
const TRACK = 'trackID=0';
/** How long DESCRIBE waits for a starting encoder's parameter sets. */
const DESCRIBE_WAIT_MS = 10_000;
/** How long DESCRIBE waits for the first AAC frame of a camera that has sent sound (a converter that cannot start). */
const SOUND_WAIT_MS = 3_000;
/** Sessions one connection may set up; real clients use one or two. */
const MAX_SESSIONS_PER_CONNECTION = 8;
/** Sessions that have not played that one address may hold: real clients set up a track or two and play at once. */
const MAX_UNPLAYED_SESSIONS_PER_ADDRESS = 64;

/** The stream name and track part of a request URI (`rtsp://host:port/NAME/trackID=0`, or an absolute path). */
export function parseTarget(uri: string): { name: string; track: string } | undefined {
  let path: string;
  if (/^rtsps?:\/\//i.test(uri)) {
    try {
      path = new URL(uri).pathname;
    } catch {
      return undefined;
    }
  } else if (uri.startsWith('/')) path = uri.split('?')[0]!;
  else return undefined;
  const segments = path.split('/').filter((segment) => segment.length > 0);
  const name = segments[0];
  if (name === undefined) return undefined;
  return { name, track: segments.slice(1).join('/') };
}

/** The URI without query, track and trailing slash: the base that Content-Base and RTP-Info build on. */
function baseUri(uri: string): string {
  return uri.split('?')[0]!.replace(/\/+$/, '').replace(new RegExp(`/(${TRACK}|${AUDIO_TRACK})$`), '');
}

/** Answers one request. */
export async function handleRequest(server: RtspServer, connection: RtspConnection, request: RtspRequest): Promise<RtspReply> {
  switch (request.method) {
    case 'OPTIONS':
      return { status: 200, headers: [['Public', PUBLIC_METHODS]] };
    case 'DESCRIBE':
      return describe(server, connection, request);
    case 'SETUP':
      return setup(server, connection, request);
    case 'PLAY':
    case 'PAUSE':
    case 'TEARDOWN':
    case 'GET_PARAMETER':
      return sessionMethod(server, connection, request);
    default:
      if (NOT_ALLOWED.has(request.method)) return { status: 405, headers: [['Allow', PUBLIC_METHODS]] };
      return { status: 501, headers: [['Public', PUBLIC_METHODS]] };
  }
}

function mountOf(server: RtspServer, uri: string): { mount: RtspMount; track: string } | undefined {
  const target = parseTarget(uri);
  const mount = target && server.mounts.get(target.name);
  return mount && target ? { mount, track: target.track } : undefined;
}

async function describe(server: RtspServer, connection: RtspConnection, request: RtspRequest): Promise<RtspReply> {
  const found = mountOf(server, request.uri);
  if (!found || (found.track !== '' && found.track !== TRACK)) return { status: 404 };
  const refused = await server.options.authorize?.(found.mount.name, request.uri, request.headers.get('Authorization'), connection);
  if (refused) return refused;
  const { mount } = found;
  const source = mount.stream.source;
  const audio = mount.audio?.source;
  // A camera known to have sound whose first AAC frame has not come yet (its converter starting) is waited for too.
  const soundBy = Date.now() + SOUND_WAIT_MS;
  const waiting = (): boolean => !source.ready || (audio?.pending === true && Date.now() < soundBy);
  if (waiting()) {
    // The encoder is starting (or on demand): hold it and wait briefly for its parameter sets.
    const release = source.acquire();
    const deadline = Date.now() + DESCRIBE_WAIT_MS;
    while (waiting() && Date.now() < deadline && !connection.isClosed && server.mounts.get(mount.name) === mount) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    release();
    if (!source.ready) return { status: 503, headers: [['Retry-After', '2']] };
  }
  const audioLines = audio?.ready ? audio.mediaLines() : [];
  const sdp = buildSdp({ name: mount.name, serverAddress: connection.localAddress, mediaLines: [...source.mediaLines(), ...audioLines] });
  return {
    status: 200,
    headers: [['Content-Type', 'application/sdp'], ['Content-Base', `${baseUri(request.uri)}/`]],
    body: Buffer.from(sdp, 'utf8'),
  };
}

async function setup(server: RtspServer, connection: RtspConnection, request: RtspRequest): Promise<RtspReply> {
  const found = mountOf(server, request.uri);
  const audioTrack = found?.track === AUDIO_TRACK;
  // The sound track exists only where the stream carries sound and the camera has sent some.
  if (!found || (found.track !== '' && found.track !== TRACK && !(audioTrack && found.mount.audio?.source.ready))) return { status: 404 };
  const refused = await server.options.authorize?.(found.mount.name, request.uri, request.headers.get('Authorization'), connection);
  if (refused) return refused;
  const { mount } = found;
  const sessionId = sessionIdOf(request);
  if (audioTrack) return setupAudio(server, connection, request, mount, sessionId);
  if (sessionId !== undefined) return { status: server.sessions.get(sessionId)?.connection === connection ? 455 : 454 };
  const choice = chooseTransport(request.headers.get('Transport'), server.udp !== undefined);
  if (!choice) return { status: 461 };
  if (connection.sessions.size >= MAX_SESSIONS_PER_CONNECTION || server.sessions.size >= (server.options.maxSessions ?? 10_000)) return { status: 503 };
  const overAddress = addressLimit(server, connection.address);
  if (overAddress) return { status: 503, body: Buffer.from(`${overAddress}\n`) };
  const refusal = server.options.admit?.(mount.name);
  if (refusal) return { status: refusal.status, body: Buffer.from(`${refusal.reason}\n`) };
  let delivery: Delivery;
  let transport: string;
  if (choice.kind === 'tcp') {
    const channels = choice.channels ?? connection.freeChannels();
    if (!channels || connection.channelInUse(channels[0]) || connection.channelInUse(channels[1])) return { status: 461 };
    const viewer = new Viewer(connection.socket, mount.limits, connection.remoteAddress, 'rtsp');
    delivery = new TcpDelivery(viewer, channels);
    transport = `RTP/AVP/TCP;unicast;interleaved=${channels[0]}-${channels[1]}`;
  } else if (server.udp) {
    // RTP goes only to the address the request came from (no destination=): the server cannot be aimed at others.
    delivery = new UdpDelivery(server.udp, connection.remoteAddress, choice.clientPorts, server.sessionTimeoutMs);
    const [first, second] = server.udp.ports;
    transport = `RTP/AVP;unicast;client_port=${choice.clientPorts[0]}-${choice.clientPorts[1]};server_port=${first}-${second}`;
  } else {
    return { status: 461 };
  }
  const ssrc = mount.stream.ssrc.toString(16).toUpperCase().padStart(8, '0');
  const reader = new RtspReader(mount.stream, delivery, (bytes, now) => mount.replays.take(connection.address, bytes, now));
  const session = new RtspSession(mount.name, reader, connection, mount.stream.source.acquire());
  server.addSession(mount, session);
  return { status: 200, headers: [['Transport', `${transport};ssrc=${ssrc}`], sessionHeader(server, session)] };
}

/**
 * Adds the stream's sound to a session that has set up its picture, on the same kind of transport. Sound alone, with
 * no picture to hold the camera and time it, is refused (459).
 */
function setupAudio(server: RtspServer, connection: RtspConnection, request: RtspRequest, mount: RtspMount, sessionId: string | undefined): RtspReply {
  const audio = mount.audio!;
  if (sessionId === undefined) return { status: 459, body: Buffer.from(`set up ${TRACK} first: the sound joins the picture's session\n`) };
  const session = server.sessions.get(sessionId);
  if (!session || session.connection !== connection) return { status: 454 };
  if (session.streamName !== mount.name || session.audio) return { status: 455 };
  const choice = chooseTransport(request.headers.get('Transport'), server.udp !== undefined);
  const video = session.reader.delivery;
  if (!choice || choice.kind !== video.transport) return { status: 461 };
  let delivery: Delivery;
  let transport: string;
  if (choice.kind === 'tcp' && video instanceof TcpDelivery) {
    const channels = choice.channels ?? connection.freeChannels();
    if (!channels || connection.channelInUse(channels[0]) || connection.channelInUse(channels[1])) return { status: 461 };
    delivery = new TcpDelivery(video.viewer, channels, true);
    transport = `RTP/AVP/TCP;unicast;interleaved=${channels[0]}-${channels[1]}`;
  } else if (choice.kind === 'udp' && server.udp) {
    delivery = new UdpDelivery(server.udp, connection.remoteAddress, choice.clientPorts, server.sessionTimeoutMs);
    const [first, second] = server.udp.ports;
    transport = `RTP/AVP;unicast;client_port=${choice.clientPorts[0]}-${choice.clientPorts[1]};server_port=${first}-${second}`;
  } else {
    return { status: 461 };
  }
  session.touch();
  session.addAudio(new RtspReader(audio, delivery));
  const ssrc = audio.ssrc.toString(16).toUpperCase().padStart(8, '0');
  return { status: 200, headers: [['Transport', `${transport};ssrc=${ssrc}`], sessionHeader(server, session)] };
}

function sessionHeader(server: RtspServer, session: RtspSession): [string, string] {
  return ['Session', `${session.id};timeout=${Math.round(server.sessionTimeoutMs / 1000)}`];
}

/** Why one more session from `address` would be too many, if it would. */
function addressLimit(server: RtspServer, address: string): string | undefined {
  const sessions = server.sessionsFrom.get(address) ?? new Set();
  const max = server.options.maxSessionsPerAddress?.() ?? 0;
  if (max > 0 && sessions.size >= max) return `this address holds ${sessions.size} sessions, its limit`;
  let unplayed = 0;
  for (const session of sessions) if (!session.admitted) unplayed++;
  if (unplayed >= MAX_UNPLAYED_SESSIONS_PER_ADDRESS) return `this address holds ${unplayed} sessions that have not played`;
  return undefined;
}

async function sessionMethod(server: RtspServer, connection: RtspConnection, request: RtspRequest): Promise<RtspReply> {
  const sessionId = sessionIdOf(request);
  if (sessionId === undefined) return { status: request.method === 'GET_PARAMETER' ? 200 : 455 };
  const session = server.sessions.get(sessionId);
  // A session is controlled only from the connection that set it up: knowing its id is not enough.
  if (!session || session.connection !== connection) return { status: 454 };
  const target = parseTarget(request.uri);
  if (target && target.name !== session.streamName && request.uri !== '*') return { status: 455 };
  const now = Date.now();
  session.touch(now);
  for (const { delivery } of session.readers) if (delivery instanceof UdpDelivery) delivery.renew(now);
  const header = sessionHeader(server, session);
  if (request.method === 'PLAY') {
    const refused = await server.options.authorize?.(session.streamName, request.uri, request.headers.get('Authorization'), connection);
    if (refused) return refused;
    if (session.closed) return { status: 454 };
    if (!session.admitted) {
      const refusal = server.options.admit?.(session.streamName);
      if (refusal) return { status: refusal.status, headers: [header], body: Buffer.from(`${refusal.reason}\n`) };
      session.admitted = true;
    }
    const now = Date.now();
    const { start, begin } = session.reader.play(now);
    const base = baseUri(request.uri);
    let rtpInfo = `url=${base}/${TRACK};seq=${start.sequence};rtptime=${start.rtpTimestamp}`;
    // The sound starts at the picture's first instant: RTP-Info gives a reader both tracks' times of that one instant.
    const sound = session.audio?.play(now, start.timeMs ?? session.reader.stream.cameraTimeAt(now) ?? 0);
    if (sound) rtpInfo += `,url=${base}/${AUDIO_TRACK};seq=${sound.start.sequence};rtptime=${sound.start.rtpTimestamp}`;
    const after = (): void => {
      begin();
      sound?.begin();
    };
    return { status: 200, headers: [header, ['Range', 'npt=0.000-'], ['RTP-Info', rtpInfo]], after };
  }
  if (request.method === 'PAUSE') for (const reader of session.readers) reader.pause();
  if (request.method === 'TEARDOWN') session.close();
  return { status: 200, headers: [header] };
}

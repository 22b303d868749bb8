import { DIRECTIVES, type Scope } from './directives.ts';
import type { DirectiveValues, ParsedBlock, Problems } from './parse.ts';
import { checkCopyCodecs } from './codec-checks.ts';
import { checkPortClashes } from './port-checks.ts';
import { buildEvents } from './events.ts';
import { buildControl } from './control.ts';
import { checkPublishKeys } from './push-checks.ts';
import { checkRecordSizing, defaultRecordBitRate } from './sizing.ts';
import { buildSecurity, streamAccess, type SecurityConfig } from './security.ts';
import type { IceServer } from './webrtc-values.ts';
import { buildStorage, checkCachePaths } from './storage.ts';
import type { CameraConfig, RedirectConfig, RelayConfig, Size, StorageConfig, StreamConfig, StreamFormat } from './types.ts';

/** Reads a directive's value, or its default from the table. */
function reader(scope: Scope, values: DirectiveValues) {
  return <T>(name: string): T => {
    const found = values.get(name);
    return (found ? found.value : DIRECTIVES[scope][name]?.default) as T;
  };
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** URL prefixes the relay's own features own (`/api/...`, `/wall`); a stream or its HLS segments may not take them. */
export const RESERVED_PREFIXES = ['api', 'vod', 'record', 'recordings', 'player', 'assets', 'live', 'wall', 'admin', 'metrics'] as const;

/** Why a Stream or Redirect name would collide with the relay's own URLs, or undefined when it is free. */
export function reservedNameProblem(name: string, format: StreamFormat | undefined): string | undefined {
  const lower = name.toLowerCase();
  const reserved = (RESERVED_PREFIXES as readonly string[]).find((prefix) => lower === prefix);
  if (reserved) return `/${name} is reserved for the relay's own pages and APIs (${RESERVED_PREFIXES.map((p) => `/${p}`).join(', ')}, /stat.*)`;
  if (lower.startsWith('stat.') && format !== 'status') return `/${name} is reserved: /stat.* belongs to the status page and its JSON`;
  const hlsPrefix = format === 'hls' ? lower.replace(/\.m3u8$/, '') : undefined;
  if (hlsPrefix && (RESERVED_PREFIXES as readonly string[]).includes(hlsPrefix)) {
    return `its HLS segments would be served under /${hlsPrefix}/, which is reserved for the relay's own pages and APIs`;
  }
  return undefined;
}

/** Format implied by a stream name's extension, as ffserver did. */
const FORMAT_BY_EXTENSION: Record<string, StreamFormat> = {
  flv: 'flv', m3u8: 'hls', mjpg: 'mpjpeg', mjpeg: 'mpjpeg', jpg: 'jpeg', jpeg: 'jpeg', html: 'status',
};

/** Assembles the typed config from parsed directives and checks what spans blocks (names, references, requirements). */
export function buildConfig(
  file: string,
  global: DirectiveValues,
  blocks: readonly ParsedBlock[],
  problems: Problems,
  schemes: readonly string[],
): RelayConfig {
  const get = reader('global', global);
  const hlsDirectory = global.get('HLSDirectory');
  if (hlsDirectory) problems.warn(hlsDirectory.line, 'HLSDirectory: no longer used (HLS is packaged in memory); ignored');
  const cameras: CameraConfig[] = [];
  const streams: StreamConfig[] = [];
  const redirects: RedirectConfig[] = [];
  const storages: StorageConfig[] = [];
  const seen = new Map<string, number>();
  const security = buildSecurity(global, problems);
  for (const block of blocks) {
    checkRequired(block, problems);
    if (!NAME_PATTERN.test(block.name)) {
      problems.error(block.line, `<${block.kind} ${block.name}>: names use letters, digits, '.', '_' and '-' (at most 128)`);
      continue;
    }
    const namespace = block.kind === 'Camera' ? 'camera' : block.kind === 'Storage' ? 'storage' : 'url';
    const key = `${namespace}:${block.name.toLowerCase()}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.error(block.line, `<${block.kind} ${block.name}>: the name ${block.name} is already used on line ${first}`);
      continue;
    }
    seen.set(key, block.line);
    if (block.kind === 'Storage') {
      pushDefined(storages, buildStorage(block, problems));
      continue;
    }
    if (block.kind !== 'Camera') {
      const format = block.kind === 'Stream' ? streamFormatOf(block) : undefined;
      const reserved = reservedNameProblem(block.name, format);
      if (reserved) {
        problems.error(block.line, `<${block.kind} ${block.name}>: ${reserved}`);
        continue;
      }
    }
    const retry = { maxDelayMs: get<number>('RetryMaxDelay'), resetAfterMs: get<number>('RetryResetAfter') };
    const archive = { storage: get<string | undefined>('RecordArchive'), localKeepMs: get<number>('RecordLocalKeep') };
    if (block.kind === 'Camera') pushDefined(cameras, buildCamera(block, problems, schemes, get<number>('VodStreamTimeout'), retry, security, archive));
    else if (block.kind === 'Stream') pushDefined(streams, buildStream(block, problems, security, get<boolean>('WebRTC')));
    else redirects.push({ name: block.name, line: block.line, url: reader('Redirect', block.values)<string>('URL') });
  }
  checkPortClashes(global, { HTTPPort: get<number>('HTTPPort'), HTTPSPort: security.httpsPort, RTSPPort: get<number>('RTSPPort') }, problems);
  checkPublishKeys(cameras, blocks, problems);
  checkRecordSizing(cameras, blocks, { bytes: get<number>('RecordMaxTotalSize'), line: global.get('RecordMaxTotalSize')?.line }, problems);
  checkCopyCodecs(cameras, streams, blocks, problems);
  checkArchives(cameras, blocks, storages, global, problems);
  checkCachePaths(storages, blocks, problems);
  for (const stream of streams) {
    const reported = problems.brokenCameras.has(stream.feed ?? '') || blocks.some((block) => block.kind === 'Camera' && block.name === stream.feed);
    if (stream.feed && !reported && !cameras.some((camera) => camera.name === stream.feed)) {
      const names = cameras.map((camera) => camera.name).join(', ') || 'none are defined';
      problems.error(lineOf(blocks, stream, 'Feed'), `Feed: <Stream ${stream.name}> names camera "${stream.feed}", which is not defined (cameras: ${names})`);
    }
  }
  return deepFreeze({
    file,
    log: { level: get('LogLevel'), format: get('LogFormat'), file: get<string | undefined>('LogFile') },
    httpPort: get<number>('HTTPPort'),
    httpBindAddress: get<string>('HTTPBindAddress'),
    maxClients: get<number>('MaxClients'),
    maxBandwidth: get<number>('MaxBandwidth'),
    ffmpegPath: get<string | undefined>('FFmpegPath'),
    maxProcesses: get<number>('MaxProcesses'),
    rtspPort: get<number>('RTSPPort'),
    rtspBindAddress: get<string | undefined>('RTSPBindAddress') ?? get<string>('HTTPBindAddress'),
    rtspUdpPortRange: get<readonly [number, number]>('RTSPUDPPortRange'),
    rtspSessionTimeoutMs: get<number>('RTSPSessionTimeout'),
    rtpPortRange: get<readonly [number, number]>('RTPPortRange'),
    webrtcDefault: get<boolean>('WebRTC'),
    webrtcUdpPort: get<number>('WebRTCUDPPort'),
    webrtcConnectTimeoutMs: get<number>('WebRTCConnectTimeout'),
    webrtcIceServers: get<readonly IceServer[] | undefined>('WebRTCICEServers') ?? [],
    webrtcAdditionalHosts: get<readonly string[] | undefined>('WebRTCAdditionalHosts') ?? [],
    publishAddress: get<string | undefined>('PublishAddress'),
    mediaPath: get<string>('MediaPath'),
    vodCachePath: get<string | undefined>('VodCachePath'),
    vodStreamTimeoutMs: get<number>('VodStreamTimeout'),
    vodCacheMaxBytes: get<number>('VodCacheMaxSize'),
    recording: {
      path: get<string>('RecordPath'),
      maxTotalBytes: get<number>('RecordMaxTotalSize'),
      minFreeBytes: get<number>('RecordMinFreeSpace'),
      maxRequestSeconds: get<number>('RecordMaxRequestSeconds'),
    },
    cameras,
    streams,
    redirects,
    storages,
    security,
    events: buildEvents(global, problems),
  });
}

/** The format a Stream block declares, or the one its name's extension implies. */
function streamFormatOf(block: ParsedBlock): StreamFormat | undefined {
  const declared = block.values.get('Format')?.value as StreamFormat | undefined;
  return declared ?? FORMAT_BY_EXTENSION[block.name.split('.').pop()?.toLowerCase() ?? ''];
}

function pushDefined<T>(list: T[], item: T | undefined): void {
  if (item !== undefined) list.push(item);
}

function lineOf(blocks: readonly ParsedBlock[], stream: StreamConfig, directive: string): number {
  const block = blocks.find((candidate) => candidate.kind === 'Stream' && candidate.name === stream.name);
  return block?.values.get(directive)?.line ?? stream.line;
}

function checkRequired(block: ParsedBlock, problems: Problems): void {
  for (const [name, spec] of Object.entries(DIRECTIVES[block.kind])) {
    if (spec.required && !block.values.has(name)) problems.error(block.line, `<${block.kind} ${block.name}>: missing required directive ${name}`);
  }
}

/** A Camera block's config, with the directive table's defaults for what it leaves out. */
export function buildCamera(
  block: ParsedBlock, problems: Problems, schemes: readonly string[], vodStreamTimeoutMs: number,
  retry: { maxDelayMs: number; resetAfterMs: number }, security: SecurityConfig,
  archive: GlobalArchive = { storage: undefined, localKeepMs: 0 },
): CameraConfig | undefined {
  const get = reader('Camera', block.values);
  const sourceText = get<string | undefined>('Source');
  if (sourceText === undefined) return undefined;
  const sourceLine = block.values.get('Source')!.line;
  let url: URL;
  try {
    url = new URL(sourceText);
  } catch {
    problems.error(sourceLine, `Source: "${redactText(sourceText)}" is not a URL (e.g. http://camera/video.mjpg, rtsp://camera/stream, vbc://camera, testsrc://)`);
    return undefined;
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) {
    problems.error(sourceLine, `Source: no adapter for ${scheme}:// (known: ${schemes.map((s) => `${s}://`).join(', ')})`);
    return undefined;
  }
  // Credentials in the URL move to username/password so that `source` can be shown and logged.
  const username = get<string | undefined>('Username') ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = get<string | undefined>('Password') ?? (url.password ? decodeURIComponent(url.password) : undefined);
  url.username = '';
  url.password = '';
  // A file played as a live stream runs only while watched and lingers VodStreamTimeout, unless the block says otherwise.
  const fromFile = scheme === 'vod-live';
  const loopAt = block.values.get('Loop');
  if (loopAt && !fromFile) problems.error(loopAt.line, 'Loop: applies to vod-live:// sources only');
  return {
    name: block.name,
    line: block.line,
    source: url.toString(),
    scheme,
    username,
    password,
    inputFrameRate: get('InputFrameRate'),
    onDemand: fromFile && !block.values.has('OnDemand') ? true : get('OnDemand'),
    closeAfterMs: fromFile && !block.values.has('CloseAfter') ? vodStreamTimeoutMs : get('CloseAfter'),
    timeoutMs: get('Timeout'),
    retryMaxDelayMs: get<number | undefined>('RetryMaxDelay') ?? retry.maxDelayMs,
    retryResetAfterMs: retry.resetAfterMs,
    connectTimeoutMs: get('ConnectTimeout'),
    readTimeoutMs: get('ReadTimeout'),
    snapshotIntervalMs: get('SnapshotInterval'),
    maxFrameBytes: get('MaxFrameSize'),
    tlsVerify: get('TLSVerify'),
    rtspTransport: get('RTSPTransport'),
    vbcLogin: get('VBCLogin'),
    vbcImageSize: get('VBCImageSize'),
    publishKeys: get<Array<{ value: string }>>('PublishKey').map((entry) => entry.value),
    followSsrc: get('FollowSSRC'),
    loop: get('Loop'),
    record: buildRecord(block, problems, archive),
    control: buildControl(block.values, get, url, security, problems, block.line),
  };
}

/** The global RecordArchive and RecordLocalKeep, which a camera's own override. */
interface GlobalArchive {
  readonly storage: string | undefined;
  readonly localKeepMs: number;
}

function buildRecord(block: ParsedBlock, problems: Problems, archive: GlobalArchive): CameraConfig['record'] {
  const get = reader('Camera', block.values);
  const codec = get<'libx264' | 'copy'>('RecordCodec');
  if (codec === 'copy') {
    for (const directive of ['RecordFrameRate', 'RecordSize', 'RecordBitRate']) {
      const at = block.values.get(directive);
      if (at) problems.error(at.line, `${directive}: does not apply with RecordCodec copy (the camera's H.264 is recorded unchanged)`);
    }
  }
  return {
    enabled: get('Record'),
    frameRate: get('RecordFrameRate'),
    size: get<Size | undefined>('RecordSize'),
    bitRate: block.values.has('RecordBitRate') ? get<number>('RecordBitRate') : defaultRecordBitRate(get<Size | undefined>('RecordSize'), get<number>('RecordFrameRate'), get<number>('RecordBitRate')),
    codec,
    segmentSeconds: get('RecordSegmentSeconds'),
    deleteAfterMs: get('RecordDeleteAfter'),
    maxBytes: get('RecordMaxSize'),
    archive: archiveOf(get<string | undefined>('RecordArchive') ?? archive.storage),
    localKeepMs: get<number | undefined>('RecordLocalKeep') ?? archive.localKeepMs,
  };
}

/** `none` (a camera opting out of the global RecordArchive) means no archive. */
function archiveOf(name: string | undefined): string | undefined {
  return name === undefined || name.toLowerCase() === 'none' ? undefined : name;
}

/** Every RecordArchive names a configured <Storage> block. */
function checkArchives(cameras: readonly CameraConfig[], blocks: readonly ParsedBlock[], storages: readonly StorageConfig[], global: DirectiveValues, problems: Problems): void {
  const known = (name: string): boolean => storages.some((storage) => storage.name === name) || blocks.some((block) => block.kind === 'Storage' && block.name === name);
  const names = storages.map((storage) => storage.name).join(', ') || 'none are defined';
  const globalAt = global.get('RecordArchive');
  const globalName = archiveOf(globalAt?.value as string | undefined);
  if (globalAt && globalName && !known(globalName)) problems.error(globalAt.line, `RecordArchive: no <Storage ${globalName}> block (storages: ${names})`);
  for (const camera of cameras) {
    const at = blocks.find((block) => block.kind === 'Camera' && block.name === camera.name)?.values.get('RecordArchive');
    if (at && camera.record.archive && !known(camera.record.archive)) problems.error(at.line, `RecordArchive: no <Storage ${camera.record.archive}> block (storages: ${names})`);
  }
}

/** Replaces a password in something that failed to parse as a URL, so the error can be printed. */
function redactText(text: string): string {
  return text.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
}

/** A Stream block's config, with the directive table's defaults for what it leaves out. */
export function buildStream(block: ParsedBlock, problems: Problems, security: SecurityConfig, webrtcDefault: boolean): StreamConfig | undefined {
  const get = reader('Stream', block.values);
  const extension = block.name.includes('.') ? block.name.split('.').pop()!.toLowerCase() : '';
  const format = get<StreamFormat | undefined>('Format') ?? FORMAT_BY_EXTENSION[extension];
  if (!format) {
    problems.error(block.line, `<Stream ${block.name}>: missing Format (flv, hls, mpjpeg, jpeg or status), and the name's extension implies none`);
    return undefined;
  }
  const feed = get<string | undefined>('Feed');
  const transcoded = format === 'flv' || format === 'hls';
  const codec = get<'libx264' | 'copy'>('VideoCodec');
  const misuse = (directive: string, why: string): void => {
    const at = block.values.get(directive);
    if (at) problems.error(at.line, `${directive}: ${why}`);
  };
  if (format === 'status') {
    for (const directive of ['Feed', 'VideoSize', 'VideoCodec', 'VideoBitRate']) misuse(directive, 'does not apply to Format status');
  } else if (feed === undefined) {
    problems.error(block.line, `<Stream ${block.name}>: missing required directive Feed (the camera this stream shows)`);
  }
  if (!transcoded) {
    for (const directive of ['VideoSize', 'VideoCodec', 'VideoQMin', 'VideoQMax', 'VideoGopSize', 'HLSSegmentTime', 'HLSListSize', 'LowLatency']) {
      misuse(directive, `does not apply to Format ${format} (frames pass through without transcoding)`);
    }
  }
  if (format !== 'hls') for (const directive of ['HLSSegmentTime', 'HLSListSize', 'LowLatency']) misuse(directive, 'applies to Format hls only');
  if (!transcoded) misuse('Audio', 'applies to flv and hls streams only (MJPEG and JPEG carry no sound)');
  if (format === 'jpeg' || format === 'status') misuse('RTSP', 'applies to video streams only (flv, hls, mpjpeg)');
  if (!transcoded) misuse('WebSocket', 'applies to H.264 streams only (Format flv, hls)');
  if (!transcoded) misuse('WebRTC', 'applies to H.264 streams only (flv, hls)');
  if (codec === 'copy') {
    for (const directive of ['VideoSize', 'VideoQMin', 'VideoQMax', 'VideoGopSize', 'VideoFrameRate']) {
      misuse(directive, 'does not apply with VideoCodec copy (the camera\'s H.264 is passed on unchanged)');
    }
  }
  const qmin = get<number | undefined>('VideoQMin');
  const qmax = get<number | undefined>('VideoQMax');
  if (qmin !== undefined && qmax !== undefined && qmin > qmax) misuse('VideoQMin', `${qmin} is above VideoQMax ${qmax}`);
  const budget = get<number>('ViewerBudget');
  const hardLimit = get<number>('ViewerMaxQueue');
  if (hardLimit < budget) misuse('ViewerMaxQueue', `${hardLimit} bytes is below ViewerBudget ${budget}`);
  return {
    name: block.name,
    line: block.line,
    format,
    feed: format === 'status' ? undefined : feed,
    videoFrameRate: get('VideoFrameRate'),
    videoSize: get<Size | undefined>('VideoSize'),
    videoBitRate: get('VideoBitRate'),
    videoQMin: qmin,
    videoQMax: qmax,
    videoGopSize: get('VideoGopSize'),
    videoCodec: codec,
    maxClients: get('MaxClients'),
    hlsSegmentSeconds: get('HLSSegmentTime'),
    hlsListSize: get('HLSListSize'),
    lowLatency: get('LowLatency'),
    audio: transcoded && (get<boolean | undefined>('Audio') ?? !(block.values.has('NoAudio') && get<boolean>('NoAudio'))),
    viewerBudgetBytes: budget,
    viewerHardLimitBytes: hardLimit,
    viewerWriteTimeoutMs: get('ViewerWriteTimeout'),
    rtsp: get<boolean>('RTSP') && format !== 'jpeg' && format !== 'status',
    webSocket: get<boolean>('WebSocket') && transcoded,
    webrtc: (get<boolean | undefined>('WebRTC') ?? webrtcDefault) && transcoded,
    access: streamAccess(block.values, security, problems),
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

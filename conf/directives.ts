import { CONTROL_DIRECTIVES } from './control.ts';
import { EVENT_DIRECTIVES } from './events.ts';
import { publishKey } from './push-values.ts';
import { SECURITY_DIRECTIVES } from './security.ts';
import { additionalHosts, iceServers } from './webrtc-values.ts';
import { STORAGE_DIRECTIVES } from './storage.ts';
import { bitRate, boolean, bytes, decimal, duration, hexBytes, integer, oneOf, portRange, seconds, size, secondsValue, storageSize, text, type ValueParser } from './values.ts';

/** Where a directive may stand. */
export type Scope = 'global' | 'Camera' | 'Stream' | 'Redirect' | 'Storage';

/** One directive: its parser and the default used when it is absent (undefined: no default). */
export interface DirectiveSpec {
  readonly parse: ValueParser<unknown>;
  readonly default?: unknown;
  readonly required?: boolean;
  /** May appear on several lines; the value is then a list of { value, line }, one per line. */
  readonly repeatable?: boolean;
}

const ANY_PORT = integer(0, 65535);

/** Every directive relay.conf knows, by block. relay.conf.example documents each with these defaults. */
export const DIRECTIVES: Record<Scope, Record<string, DirectiveSpec>> = {
  global: {
    HTTPPort: { parse: ANY_PORT, default: 8090 },
    HTTPBindAddress: { parse: text, default: '127.0.0.1' },
    MaxClients: { parse: integer(0, 1_000_000), default: 1000 },
    MaxBandwidth: { parse: bitRate(0, 100_000_000), default: 0 },
    FFmpegPath: { parse: text },
    /** No longer used (HLS is packaged in memory); accepted with a warning so that old configs load. */
    HLSDirectory: { parse: text },
    MaxProcesses: { parse: integer(1, 100_000), default: 256 },
    RTSPPort: { parse: ANY_PORT, default: 0 },
    RTSPBindAddress: { parse: text },
    RTSPUDPPortRange: { parse: portRange, default: [6970, 6999] },
    RTSPSessionTimeout: { parse: seconds(5, 3600), default: 60_000 },
    RTPPortRange: { parse: portRange, default: [30000, 30999] },
    WebRTC: { parse: boolean, default: true },
    WebRTCUDPPort: { parse: ANY_PORT, default: 0 },
    WebRTCConnectTimeout: { parse: seconds(1, 600), default: 10_000 },
    WebRTCICEServers: { parse: iceServers },
    WebRTCAdditionalHosts: { parse: additionalHosts },
    PublishAddress: { parse: text },
    MediaPath: { parse: text, default: './media' },
    VodCachePath: { parse: text },
    VodStreamTimeout: { parse: seconds(0, 86_400), default: 30_000 },
    VodCacheMaxSize: { parse: storageSize(2 ** 53), default: 10 * 2 ** 30 },
    RecordPath: { parse: text, default: './recordings' },
    RecordMaxTotalSize: { parse: storageSize(2 ** 53), default: 0 },
    RecordMinFreeSpace: { parse: storageSize(2 ** 53), default: 1024 ** 3 },
    LogLevel: { parse: oneOf(['info', 'warn', 'error'] as const), default: 'info' },
    LogFormat: { parse: oneOf(['text', 'json'] as const), default: 'text' },
    LogFile: { parse: text },
    RetryMaxDelay: { parse: seconds(0.1, 3600), default: 60_000 },
    RetryResetAfter: { parse: seconds(1, 3600), default: 30_000 },
    RecordMaxRequestSeconds: { parse: secondsValue(1, 86_400, true), default: 3600 },
    /** The <Storage> block closed recording segments of every recorded camera are archived to (a camera may set its own). */
    RecordArchive: { parse: text },
    RecordLocalKeep: { parse: duration(3650 * 86_400_000), default: 0 },
    ...SECURITY_DIRECTIVES,
    ...EVENT_DIRECTIVES,
  },
  Camera: {
    Source: { parse: text, required: true },
    Username: { parse: text },
    Password: { parse: text },
    InputFrameRate: { parse: decimal(0, 240), default: 0 },
    OnDemand: { parse: boolean, default: false },
    CloseAfter: { parse: seconds(0, 86_400), default: 10_000 },
    Timeout: { parse: seconds(0.5, 3600), default: 10_000 },
    ConnectTimeout: { parse: seconds(0.1, 600), default: 5_000 },
    /** Overrides the global RetryMaxDelay for this camera. */
    RetryMaxDelay: { parse: seconds(0.1, 3600) },
    ReadTimeout: { parse: seconds(0.1, 600), default: 10_000 },
    SnapshotInterval: { parse: seconds(0, 3600), default: 0 },
    MaxFrameSize: { parse: bytes(1024, 64 * 1024 * 1024), default: 4 * 1024 * 1024 },
    TLSVerify: { parse: boolean, default: true },
    RTSPTransport: { parse: oneOf(['tcp', 'udp'] as const), default: 'tcp' },
    VBCLogin: { parse: hexBytes(11), default: Buffer.from('10100b45293d523c4a4f16', 'hex') },
    VBCImageSize: { parse: size },
    PublishKey: { parse: publishKey, repeatable: true, default: [] },
    FollowSSRC: { parse: boolean, default: false },
    Loop: { parse: boolean, default: false },
    Record: { parse: boolean, default: false },
    RecordFrameRate: { parse: decimal(0, 240), default: 0 },
    RecordSize: { parse: size },
    RecordBitRate: { parse: bitRate(16, 100_000), default: 1000 },
    RecordCodec: { parse: oneOf(['libx264', 'copy'] as const), default: 'libx264' },
    RecordSegmentSeconds: { parse: secondsValue(2, 3600, true), default: 60 },
    RecordDeleteAfter: { parse: duration(3650 * 86_400_000), default: 0 },
    RecordMaxSize: { parse: storageSize(2 ** 53), default: 0 },
    /** Overrides the global RecordArchive for this camera (`none`: not archived). */
    RecordArchive: { parse: text },
    /** Overrides the global RecordLocalKeep for this camera. */
    RecordLocalKeep: { parse: duration(3650 * 86_400_000) },
    ...CONTROL_DIRECTIVES,
  },
  Stream: {
    Feed: { parse: text },
    Format: { parse: oneOf(['flv', 'hls', 'mpjpeg', 'jpeg', 'status'] as const) },
    VideoFrameRate: { parse: decimal(0, 240), default: 0 },
    VideoSize: { parse: size },
    VideoBitRate: { parse: bitRate(16, 100_000), default: 1000 },
    VideoQMin: { parse: integer(1, 51) },
    VideoQMax: { parse: integer(1, 51) },
    VideoGopSize: { parse: integer(0, 10_000), default: 0 },
    VideoCodec: { parse: oneOf(['libx264', 'copy'] as const), default: 'libx264' },
    MaxClients: { parse: integer(0, 1_000_000), default: 0 },
    NoAudio: { parse: (args) => (args.length === 0 ? true : boolean(args)), default: true },
    HLSSegmentTime: { parse: secondsValue(0.5, 60), default: 2 },
    HLSListSize: { parse: integer(2, 100), default: 6 },
    LowLatency: { parse: boolean, default: false },
    /** No default here: unset means yes, or no where an ffserver config says NoAudio. */
    Audio: { parse: boolean },
    ViewerBudget: { parse: bytes(16 * 1024, 256 * 1024 * 1024), default: 1024 * 1024 },
    ViewerMaxQueue: { parse: bytes(32 * 1024, 1024 * 1024 * 1024), default: 8 * 1024 * 1024 },
    ViewerWriteTimeout: { parse: seconds(0.5, 600), default: 20_000 },
    RTSP: { parse: boolean, default: true },
    WebSocket: { parse: boolean, default: true },
    /** Overrides the global WebRTC for this stream. */
    WebRTC: { parse: boolean },
    Access: { parse: oneOf(['public', 'token'] as const) },
  },
  Redirect: {
    URL: { parse: text, required: true },
  },
  Storage: STORAGE_DIRECTIVES,
};

/** The scopes whose names are blocks in relay.conf. */
export const BLOCK_KINDS = ['Camera', 'Stream', 'Redirect', 'Storage'] as const;

/** Directives ffserver had that mean nothing for a camera relay; accepted so old configs load, with a warning. */
export const IGNORED_FFSERVER_DIRECTIVES = new Set(['CustomLog', 'NoDaemon', 'FileMaxSize', 'Preroll', 'StartSendOnKey']);

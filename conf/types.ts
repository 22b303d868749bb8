import type { ObjectStoreOptions } from '../lib/object-store.ts';
import type { Access, SecurityConfig } from './security.ts';
import type { CameraControlConfig } from './control.ts';
import type { EventsConfig } from './events.ts';
import type { IceServer } from './webrtc-values.ts';

/** The validated, frozen configuration the relay runs on. Every field is filled: defaults are applied by the parser. */
export interface RelayConfig {
  readonly file: string;
  /** LogLevel, LogFormat and LogFile (undefined: stderr); applied again on reload, the file reopened on SIGHUP. */
  readonly log: { readonly level: 'info' | 'warn' | 'error'; readonly format: 'text' | 'json'; readonly file: string | undefined };
  readonly httpPort: number;
  readonly httpBindAddress: string;
  /** All viewers of all streams together; 0 means no limit. */
  readonly maxClients: number;
  /** kbit/s for all viewers together, estimated from each stream's bit rate; 0 means no limit. */
  readonly maxBandwidth: number;
  readonly ffmpegPath: string | undefined;
  /** Child processes (encoders, JPEG decoders, recorders, file readers, synthetic cameras) running at once; more starts wait for a slot. */
  readonly maxProcesses: number;
  /** RTSP server port; 0 means no RTSP server. */
  readonly rtspPort: number;
  /** Address the RTSP server binds; HTTPBindAddress unless set. */
  readonly rtspBindAddress: string;
  /** Server ports for RTP over UDP: the first free even/odd pair in this range is used. */
  readonly rtspUdpPortRange: readonly [number, number];
  /** An RTSP session with no sign of life for this long ends, ms. */
  readonly rtspSessionTimeoutMs: number;
  /** Whether streams play over WebRTC unless a Stream says otherwise (the global WebRTC). */
  readonly webrtcDefault: boolean;
  /** The one UDP port every WebRTC session shares (ICE multiplexed); 0: each session takes a port of the system's. */
  readonly webrtcUdpPort: number;
  /** A WebRTC session that has not connected (ICE and DTLS) this long after its offer ends, ms. */
  readonly webrtcConnectTimeoutMs: number;
  /** STUN and TURN servers handed to WebRTC players in their pages. */
  readonly webrtcIceServers: readonly IceServer[];
  /** Addresses written into WHEP answers as extra host candidates (the public address behind NAT or a container). */
  readonly webrtcAdditionalHosts: readonly string[];
  /** UDP ports handed to push publishers: an even RTP port and the next odd RTCP port per stream. */
  readonly rtpPortRange: readonly [number, number];
  /** The address given to push publishers; undefined: HTTPBindAddress (or, when that is a wildcard, the address the request came in on). */
  readonly publishAddress: string | undefined;
  /** The only directory files are played from (/vod/ and vod-live:// sources). */
  readonly mediaPath: string;
  /** Where files packaged for HLS playback are kept; a fresh temporary directory when unset. */
  readonly vodCachePath: string | undefined;
  /** The HLS packages of VOD files take at most this many bytes; the least recently used go first (0: no cap). */
  readonly vodCacheMaxBytes: number;
  /** vod-live:// cameras: linger after the last viewer leaves, ms (their CloseAfter unless one is given). */
  readonly vodStreamTimeoutMs: number;
  /** Where recordings go and the limits that apply to all of them. */
  readonly recording: RecordingConfig;
  readonly cameras: readonly CameraConfig[];
  readonly streams: readonly StreamConfig[];
  readonly redirects: readonly RedirectConfig[];
  /** S3-compatible buckets (`<Storage NAME>` blocks) that files are played from and recordings archived to. */
  readonly storages: readonly StorageConfig[];
  /** Admin and viewer authentication, TLS, connection limits (conf/security.ts). */
  readonly security: SecurityConfig;
  /** Webhooks and a command told of state changes (conf/events.ts). */
  readonly events: EventsConfig;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

export type RtspTransport = 'tcp' | 'udp';

export interface CameraConfig {
  readonly name: string;
  readonly line: number;
  /** The Source URL with any user:password removed (those are in username/password). */
  readonly source: string;
  /** URL scheme without the colon, e.g. 'testsrc', 'http', 'rtsp', 'vbc'. */
  readonly scheme: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Frames per second kept from the camera (pull rate for pulled protocols); 0 keeps every frame. */
  readonly inputFrameRate: number;
  readonly onDemand: boolean;
  /** On-demand linger after the last viewer leaves, ms. */
  readonly closeAfterMs: number;
  /** No-frames watchdog, ms. */
  readonly timeoutMs: number;
  /** Longest pause between reconnect attempts (RetryMaxDelay, the camera's or the global one), ms. */
  readonly retryMaxDelayMs: number;
  /** Live this long, the next failure retries from the shortest delay again (RetryResetAfter), ms. */
  readonly retryResetAfterMs: number;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  /** HTTP cameras that only serve single JPEGs: poll every this many ms (0: the source is a multipart stream). */
  readonly snapshotIntervalMs: number;
  /** Largest frame (JPEG or access unit) accepted from the camera, bytes. */
  readonly maxFrameBytes: number;
  /** https:// cameras: verify the certificate (most cameras' are self-signed: set TLSVerify no for those). */
  readonly tlsVerify: boolean;
  readonly rtspTransport: RtspTransport;
  /** Canon native protocol: the 11 opaque bytes sent after `SUPER r`. */
  readonly vbcLogin: Buffer;
  /** Canon native protocol: image size requested with message 0x88; undefined sends no size message. */
  readonly vbcImageSize: Size | undefined;
  /** push:// cameras: the API keys a publisher may present (secrets: never shown or logged). */
  readonly publishKeys: readonly string[];
  /** push:// cameras: follow a publisher whose RTP SSRC changes mid-stream instead of dropping its packets. */
  readonly followSsrc: boolean;
  /** vod-live:// sources: start the file over at its end. */
  readonly loop: boolean;
  /** Continuous recording of this camera to disk. */
  readonly record: CameraRecordConfig;
  /** Pan, tilt and zoom steered by viewers through the relay (conf/control.ts). */
  readonly control: CameraControlConfig;
}

/** Global recording settings. */
export interface RecordingConfig {
  /** Root directory of recordings; one folder per camera inside. */
  readonly path: string;
  /** All cameras together, bytes; 0 means no cap. */
  readonly maxTotalBytes: number;
  /** Oldest recordings are deleted to keep this much free on the recording file system, bytes. */
  readonly minFreeBytes: number;
  /** Longest range /record/get and /record/frames serve in one request, seconds. */
  readonly maxRequestSeconds: number;
}

/** A camera's recording settings (Record* directives in its Camera block). */
export interface CameraRecordConfig {
  readonly enabled: boolean;
  /** Frames per second recorded; 0 keeps the camera's rate. */
  readonly frameRate: number;
  /** Picture size recorded; undefined keeps the camera's size. */
  readonly size: Size | undefined;
  /** kbit/s */
  readonly bitRate: number;
  /** `copy` records an H.264 camera's own stream without encoding. */
  readonly codec: 'libx264' | 'copy';
  readonly segmentSeconds: number;
  /** Segments older than this are deleted, ms; 0 keeps them. */
  readonly deleteAfterMs: number;
  /** This camera's recordings, bytes; 0 means no cap. */
  readonly maxBytes: number;
  /** The <Storage> closed segments are uploaded to (RecordArchive, the camera's or the global one); undefined: none. */
  readonly archive: string | undefined;
  /** An archived segment's local copy is deleted once it is this old, ms (RecordLocalKeep); 0: as soon as it is archived. */
  readonly localKeepMs: number;
}

export type StreamFormat = 'flv' | 'hls' | 'mpjpeg' | 'jpeg' | 'status';

export interface StreamConfig {
  readonly name: string;
  readonly line: number;
  readonly format: StreamFormat;
  /** Camera name; undefined only for Format status. */
  readonly feed: string | undefined;
  /** Output frames per second; 0 keeps the camera's rate. */
  readonly videoFrameRate: number;
  readonly videoSize: Size | undefined;
  /** kbit/s */
  readonly videoBitRate: number;
  readonly videoQMin: number | undefined;
  readonly videoQMax: number | undefined;
  /** Frames between keyframes; 0 derives two seconds' worth from the frame rate. */
  readonly videoGopSize: number;
  readonly videoCodec: 'libx264' | 'copy';
  /** Viewers of this stream; 0 means no limit. */
  readonly maxClients: number;
  /** HLS: target segment duration, seconds. */
  readonly hlsSegmentSeconds: number;
  /** HLS: segments kept in the playlist. */
  readonly hlsListSize: number;
  /** HLS: LL-HLS (fMP4 segments with partial segments, blocking playlist reload) instead of MPEG-TS segments. */
  readonly lowLatency: boolean;
  /** The camera's sound (as AAC) beside the picture; flv and hls only. */
  readonly audio: boolean;
  /** Fan-out: bytes queued for one viewer before its frames are dropped. */
  readonly viewerBudgetBytes: number;
  /** Fan-out: bytes queued for one viewer before it is disconnected. */
  readonly viewerHardLimitBytes: number;
  /** Fan-out: a viewer whose socket accepts nothing for this long is disconnected, ms. */
  readonly viewerWriteTimeoutMs: number;
  /** Also served over RTSP at rtsp://HOST:RTSPPort/NAME (flv and hls as H.264, mpjpeg as JPEG). */
  readonly rtsp: boolean;
  /** Also served over a WebSocket at /NAME.ws (flv and hls: the same H.264, as fMP4 fragments or raw access units). */
  readonly webSocket: boolean;
  /** Also served over WebRTC (WHEP at /NAME/whep): the global WebRTC unless the Stream sets its own; H.264 streams only. */
  readonly webrtc: boolean;
  /** Who may watch: anyone, or holders of a viewer token (the stream's Access; when absent, DefaultAccess). */
  readonly access?: Access;
}

export interface RedirectConfig {
  readonly name: string;
  readonly line: number;
  readonly url: string;
}

/** One S3-compatible bucket (a `<Storage NAME>` block). */
/** A `<Storage NAME>` block: where a bucket is and how to sign for it, and the line that declared it. */
export interface StorageConfig extends ObjectStoreOptions {
  readonly line: number;
}

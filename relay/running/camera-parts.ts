import type PQueue from 'p-queue';
import type { EncoderSettings } from '../encoders/ffmpeg-args.ts';
import type { JpegView } from '../encoders/jpeg-view.ts';
import type { AacAudio } from '../encoders/aac-audio.ts';
import type { OpusAudio } from '../encoders/opus-audio.ts';
import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import type { H264Source } from '../../media/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { ProcessSlots } from '../../lib/process-slots.ts';
import type { Feed } from '../core/feed.ts';
import type { EventSink } from '../../lib/event-bus.ts';

/** What building an encoder or a JPEG view needs from the relay; the composition root (relay/app/main.ts) does the building. */
export interface PartEnv {
  readonly startQueue: PQueue;
  readonly processSlots: ProcessSlots;
  readonly log: Logger;
  /** Where state changes go (alerts); an encoder's are told as changes of the streams that use it. */
  readonly events?: EventSink;
}

/** Builds the parts of a camera that turn its frames into what outputs package (given by relay/app, so core builds no process). */
export interface CameraPartFactory {
  /** A shared encoder of the camera at `settings`; `id` names it in logs and on /stat.html. */
  encoder(id: string, settings: EncoderSettings, feed: Feed, env: PartEnv): SharedEncoder;
  jpegView(feed: Feed, env: PartEnv): JpegView;
  /** The camera's sound as AAC (copied, or converted by one ffmpeg); `id` names it on /stat.html. */
  audio(id: string, feed: Feed, env: PartEnv): AacAudio;
  /** The camera's sound as Opus (for WebRTC), converted from its AAC part by one ffmpeg while anyone listens. */
  opus(id: string, aac: AacAudio, env: PartEnv): OpusAudio;
  /** A key equal for equal settings: one encoder serves every user of a setting. */
  settingsKey(settings: EncoderSettings): string;
}

/** One shared encoder of a camera and who uses it (streams by name, the recorder). */
export interface EncoderEntry {
  readonly camera: string;
  readonly encoder: SharedEncoder;
  readonly users: Set<string>;
}

/**
 * A camera and the parts built on it: one encoder per distinct setting, the JPEG view. `close()` goes down to them
 * (then the feed) and is safe to call twice; the relay's `encoders` map is kept in step for status and tests.
 */
export class CameraParts {
  private jpeg: JpegView | undefined;
  private sound: { audio: AacAudio; users: Set<string> } | undefined;
  private opusSound: { opus: OpusAudio; users: Set<string> } | undefined;
  private readonly own = new Map<string, EncoderEntry>();
  private closed: Promise<void> | undefined;

  constructor(
    readonly feed: Feed,
    private readonly factory: CameraPartFactory,
    private readonly env: PartEnv,
    /** Every camera's encoders, keyed by camera and settings (the relay's). */
    private readonly all: Map<string, EncoderEntry>,
    private readonly nextId: () => string,
  ) {}

  get name(): string {
    return this.feed.camera.name;
  }

  /** The encoder at `settings`, created (and started) on first use; `user` holds it until release(user). */
  encoder(settings: EncoderSettings, user: string): SharedEncoder {
    if (this.closed) throw new Error(`camera ${this.name} is closed`);
    const key = `${this.name} ${this.factory.settingsKey(settings)}`;
    let entry = this.own.get(key);
    if (!entry) {
      const id = this.nextId();
      const encoder = this.factory.encoder(id, settings, this.feed, { ...this.env, log: this.env.log.child(`encoder ${id}`), events: this.encoderEvents(key, id) });
      entry = { camera: this.name, encoder, users: new Set() };
      this.own.set(key, entry);
      this.all.set(key, entry);
      encoder.start();
    }
    entry.users.add(user);
    return entry.encoder;
  }

  /** An encoder's state changes told as changes of the streams that use it (named in the subject). */
  private encoderEvents(key: string, id: string): EventSink | undefined {
    const events = this.env.events;
    if (!events) return undefined;
    return { emit: (type, _subject, message) => events.emit(type, [...(this.own.get(key)?.users ?? [id])].sort().join(', '), `encoder ${id}: ${message}`) };
  }

  /** Drops `user` from every encoder it used but `keep`; an encoder nobody uses any more is closed. */
  async release(user: string, keep?: H264Source): Promise<void> {
    for (const [key, entry] of this.own) {
      if (entry.encoder === keep || !entry.users.delete(user) || entry.users.size > 0) continue;
      this.own.delete(key);
      this.all.delete(key);
      await entry.encoder.close();
    }
    if (this.opusSound?.users.delete(user) && this.opusSound.users.size === 0) {
      const { opus } = this.opusSound;
      this.opusSound = undefined;
      await opus.close();
    }
    if (this.sound?.users.delete(user) && this.sound.users.size === 0) {
      const { audio } = this.sound;
      this.sound = undefined;
      await audio.close();
    }
  }

  /** The camera's sound as AAC, one for every stream that carries it; `user` holds it until release(user). */
  audio(user: string): AacAudio {
    if (this.closed) throw new Error(`camera ${this.name} is closed`);
    if (!this.sound) {
      const id = `${this.nextId()} audio`;
      const audio = this.factory.audio(id, this.feed, { ...this.env, log: this.env.log.child(`audio ${id}`) });
      this.sound = { audio, users: new Set() };
      audio.start();
    }
    this.sound.users.add(user);
    return this.sound.audio;
  }

  /** The camera's sound as Opus, one for every stream that sends it over WebRTC; `user` holds it (and the AAC part it reads) until release(user). */
  opus(user: string): OpusAudio {
    const aac = this.audio(user);
    if (!this.opusSound) {
      const id = `${this.nextId()} opus`;
      this.opusSound = { opus: this.factory.opus(id, aac, { ...this.env, log: this.env.log.child(`audio ${id}`) }), users: new Set() };
    }
    this.opusSound.users.add(user);
    return this.opusSound.opus;
  }

  /** The camera's Opus part and who uses it, while any stream may send it. */
  get opusPart(): { readonly opus: OpusAudio; readonly users: ReadonlySet<string> } | undefined {
    return this.opusSound;
  }

  /** The camera's sound part and who uses it, while any stream carries sound. */
  get audioPart(): { readonly audio: AacAudio; readonly users: ReadonlySet<string> } | undefined {
    return this.sound;
  }

  /** The camera as JPEGs: its own, or decoded once from its video while an MJPEG, JPEG or RTSP consumer watches. */
  jpegView(): JpegView {
    if (this.closed) throw new Error(`camera ${this.name} is closed`);
    if (!this.jpeg) {
      this.jpeg = this.factory.jpegView(this.feed, { ...this.env, log: this.env.log.child(`jpeg ${this.name}`) });
      this.jpeg.start();
    }
    return this.jpeg;
  }

  /** Closes the JPEG view, every encoder still held, then the feed. Safe to call twice. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.jpeg?.close();
      await this.opusSound?.opus.close();
      await this.sound?.audio.close();
      const entries = [...this.own];
      this.own.clear();
      for (const [key] of entries) this.all.delete(key);
      await Promise.all(entries.map(([, entry]) => entry.encoder.close()));
      await this.feed.close();
    })();
    return this.closed;
  }
}

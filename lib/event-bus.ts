/** What changed: a camera's or stream's state, a recorder, the recording disk, the TLS certificate. */
export type RelayEventType =
  | 'camera.live' | 'camera.retrying' | 'camera.failed' | 'camera.recovered'
  | 'stream.retrying' | 'stream.recovered'
  | 'recording.stopped' | 'recording.resumed'
  | 'disk.low' | 'certificate.expiring';

/** One state change, as webhooks and OnEventExec commands receive it (JSON). */
export interface RelayEvent {
  readonly type: RelayEventType;
  /** The camera, stream, recorded camera, directory or certificate file it is about. */
  readonly subject: string;
  /** One sentence for people; never a secret. */
  readonly message: string;
  readonly time: string;
}

/** The narrow interface state owners emit through: one call per state change. */
export interface EventSink {
  emit(type: RelayEventType, subject: string, message: string): void;
}

/** Hands each event to every listener; a listener that throws cannot break the emitter or the other listeners. */
export class EventBus implements EventSink {
  private readonly listeners = new Set<(event: RelayEvent) => void>();

  emit(type: RelayEventType, subject: string, message: string): void {
    const event: RelayEvent = { type, subject, message, time: new Date().toISOString() };
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener loses its own event only.
      }
    }
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: (event: RelayEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** One counted HLS viewer. */
interface Session {
  readonly address: string;
  lastSeen: number;
  readonly release: () => void;
}

/** Query parameter a player may add to the playlist URL to tell viewers behind one address apart. */
export const SESSION_PARAMETER = 'session';
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_AGENT_LENGTH = 200;

/**
 * HLS viewers, counted from served playlist requests only: a viewer is an address plus the playlist URL's `session`
 * token when it has one, else the User-Agent. One address holds at most `maxPerAddress` sessions; requests beyond that
 * refresh its least recently seen one, so no client can take more slots than that however it varies its headers.
 * Segments do not count: they are what caches serve, and a viewer polls its playlist anyway.
 */
export class HlsSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly perAddress = new Map<string, Set<string>>();

  constructor(
    private readonly windowMs: number,
    private readonly maxPerAddress: number,
    /** Holds the camera and encoder for one session; the returned function releases them. */
    private readonly acquire: () => () => void,
  ) {}

  get count(): number {
    return this.sessions.size;
  }

  /** The session key of a request. */
  static key(address: string, token: string | undefined, userAgent: string): string {
    const id = token !== undefined && TOKEN.test(token) ? `s:${token}` : `a:${userAgent.slice(0, MAX_AGENT_LENGTH)}`;
    return `${address} ${id}`;
  }

  /** True when a served playlist request with this key would add a viewer (and so must pass admission). */
  wouldAdd(address: string, key: string): boolean {
    return !this.sessions.has(key) && (this.perAddress.get(address)?.size ?? 0) < this.maxPerAddress;
  }

  /** Records a served playlist request. */
  touch(address: string, key: string, now: number): void {
    const known = this.sessions.get(key);
    if (known) {
      known.lastSeen = now;
      return;
    }
    const keys = this.perAddress.get(address) ?? new Set<string>();
    if (keys.size >= this.maxPerAddress) {
      let oldest: Session | undefined;
      for (const other of keys) {
        const session = this.sessions.get(other)!;
        if (!oldest || session.lastSeen < oldest.lastSeen) oldest = session;
      }
      oldest!.lastSeen = now;
      return;
    }
    keys.add(key);
    this.perAddress.set(address, keys);
    this.sessions.set(key, { address, lastSeen: now, release: this.acquire() });
  }

  /** Forgets sessions that stopped polling. */
  sweep(now: number): void {
    for (const [key, session] of this.sessions) if (now - session.lastSeen > this.windowMs) this.forget(key, session);
  }

  close(): void {
    for (const [key, session] of this.sessions) this.forget(key, session);
  }

  private forget(key: string, session: Session): void {
    this.sessions.delete(key);
    const keys = this.perAddress.get(session.address);
    keys?.delete(key);
    if (keys?.size === 0) this.perAddress.delete(session.address);
    session.release();
  }
}

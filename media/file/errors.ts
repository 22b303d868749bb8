/** Stable codes of the video-on-demand edge (/vod/, /player/vod/, /api/vod/), each with its HTTP status. */
export const VOD_ERROR_STATUS = {
  FILE_NOT_FOUND: 404,
  STREAM_NOT_FOUND: 404,
  BAD_PATH: 400,
  BAD_REQUEST: 400,
  NOT_VIDEO: 400,
  NO_VIDEO_TRACK: 400,
  FORBIDDEN_PATH: 403,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  NAME_TAKEN: 409,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  PACKAGING_FAILED: 422,
  TOO_MANY_REQUESTS: 429,
  TOO_MANY_STREAMS: 503,
  STORAGE_UNAVAILABLE: 503,
  // The bucket refused the relay's own credentials: an error of the relay's side that asking again soon does not fix.
  STORAGE_AUTH: 502,
  INTERNAL: 500,
} as const;

export type VodErrorCode = keyof typeof VOD_ERROR_STATUS;

/** A VOD failure whose message is safe to show anyone: it never names a path of the machine. */
export class VodError extends Error {
  override readonly name = 'VodError';
  constructor(
    readonly code: VodErrorCode,
    message: string,
    /** Seconds after which the same request may succeed (a Retry-After header), if known. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }

  get status(): number {
    return VOD_ERROR_STATUS[this.code];
  }

  /** The JSON body every VOD error answers with. */
  toJSON(): { code: VodErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** The one answer for a file that is not there (or that the relay will not admit to). */
export const fileNotFound = (): VodError => new VodError('FILE_NOT_FOUND', 'File not found');

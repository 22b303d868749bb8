/** Domain errors raised below the HTTP edge; only server.ts turns them into statuses. */
export type RelayErrorCode = 'NOT_FOUND' | 'FULL' | 'NOT_READY' | 'BAD_REQUEST';

const STATUS: Record<RelayErrorCode, number> = { NOT_FOUND: 404, FULL: 503, NOT_READY: 503, BAD_REQUEST: 400 };

/** An error whose message is safe to show a viewer. */
export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(
    readonly code: RelayErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return STATUS[this.code];
  }
}

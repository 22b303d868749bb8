/** Input that breaks a wire format or one of its limits; the message is safe to show (no credentials, no paths). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code = 'PROTOCOL';
}

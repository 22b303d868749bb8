import { ValueError, type ValueParser } from './values.ts';

/** Shortest publish key accepted: a key is a password that anyone on the network may try to guess. */
export const MIN_PUBLISH_KEY_LENGTH = 16;
const MAX_PUBLISH_KEY_LENGTH = 256;

/** `PublishKey SECRET`: the value is never echoed in an error, since config errors are printed and logged. */
export const publishKey: ValueParser<string> = (args) => {
  if (args.length !== 1) return new ValueError(`takes exactly one key, got ${args.length} values`);
  const key = args[0]!;
  if (key.length < MIN_PUBLISH_KEY_LENGTH) return new ValueError(`a key needs at least ${MIN_PUBLISH_KEY_LENGTH} characters`);
  if (key.length > MAX_PUBLISH_KEY_LENGTH) return new ValueError(`a key has at most ${MAX_PUBLISH_KEY_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(key)) return new ValueError('a key is printable ASCII without spaces');
  return key;
};

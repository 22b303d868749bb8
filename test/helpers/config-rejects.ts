import type { Test } from 'tap';
import { ConfigError, parseConfig } from '../../conf/parse.ts';

/** Asserts that relay.conf `text` is rejected and that one problem reads exactly `expected`; returns every problem. */
export function rejectsConfig(t: Test, text: string, expected: string, schemes: readonly string[]): string[] {
  try {
    parseConfig(text, 'relay.conf', { schemes });
    t.fail(`accepted: ${text}`);
    return [];
  } catch (error) {
    t.type(error, ConfigError);
    const messages = (error as ConfigError).problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
    t.ok(messages.includes(expected), `expected "${expected}" in:\n${messages.join('\n')}`);
    return messages;
  }
}

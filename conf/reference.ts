import { isDeepStrictEqual } from 'node:util';
import { DIRECTIVE_DOCS, type DirectiveDoc } from './directive-docs.ts';
import { BLOCK_KINDS, DIRECTIVES, type DirectiveSpec, type Scope } from './directives.ts';
import { ValueError } from './values.ts';

const SCOPES: readonly Scope[] = ['global', ...BLOCK_KINDS];

/** Directives of the table without documentation text, and documentation of directives the table no longer has. */
export function documentationGaps(): { undocumented: string[]; stale: string[] } {
  const undocumented: string[] = [];
  const stale: string[] = [];
  for (const scope of SCOPES) {
    for (const name of Object.keys(DIRECTIVES[scope])) if (!DIRECTIVE_DOCS[scope][name]?.text.trim()) undocumented.push(`${scope} ${name}`);
    for (const name of Object.keys(DIRECTIVE_DOCS[scope])) if (!DIRECTIVES[scope][name]) stale.push(`${scope} ${name}`);
  }
  return { undocumented, stale };
}

/** What parsers say of a value they cannot read, and the type each message stands for. */
const TYPE_MESSAGES: ReadonlyArray<readonly [RegExp, (match: RegExpExecArray) => string]> = [
  [/is not a whole number/, () => 'integer'],
  [/is not a number/, () => 'number'],
  [/is not a duration/, () => 'duration'],
  [/is not a size \(e\.g\./, () => 'size'],
  [/is not a byte count/, () => 'size'],
  [/is not a bit rate/, () => 'kbit/s'],
  [/is not yes or no/, () => 'yes | no'],
  [/is not one of (.+)$/, (match) => match[1]!.split(', ').join(' | ')],
  [/is not a size \(WxH/, () => 'WxH or a name (vga, hd720 ...)'],
  [/is not a port range/, () => 'port range FIRST-LAST'],
];

/** The value's type as its parser describes it when given nonsense, with its range when the parser has one. */
export function directiveType(name: string, spec: DirectiveSpec, doc: DirectiveDoc | undefined): string {
  if (doc?.type) return doc.type;
  const refusal = spec.parse(['§']);
  if (!(refusal instanceof ValueError)) return 'text';
  for (const [pattern, describe] of TYPE_MESSAGES) {
    const match = pattern.exec(refusal.message);
    if (!match) continue;
    const range = spec.parse(['999999999999']);
    const bounds = range instanceof ValueError ? /out of range \((.+)\)$/.exec(range.message)?.[1] : undefined;
    // Duration parsers state their bounds in seconds.
    const unit = pattern.source.includes('duration') && bounds && /\d$/.test(bounds) ? ' s' : '';
    return bounds ? `${describe(match)}, ${bounds}${unit}` : describe(match);
  }
  throw new Error(`${name}: its parser's message "${refusal.message}" names no known type; give the type in DIRECTIVE_DOCS`);
}

/** Ways to write a default value in relay.conf, tried in order; the first its parser reads back as the default wins. */
function candidates(value: unknown): string[] {
  if (typeof value === 'boolean') return [value ? 'yes' : 'no'];
  if (typeof value === 'string') return [value];
  if (Buffer.isBuffer(value)) return [value.toString('hex').replace(/(..)(?!$)/g, '$1 ')];
  if (Array.isArray(value) && value.length === 2) return [`${value[0]}-${value[1]}`, `${value[0]} ${value[1]}`];
  if (typeof value !== 'number') return [];
  const binary = ([['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['k', 2 ** 10]] as const)
    .filter(([, unit]) => value > 0 && value % unit === 0).map(([suffix, unit]) => `${value / unit}${suffix}`);
  return [...binary, String(value), String(value / 1000), `${value / 1000}s`, `${value / 60_000}m`, `${value / 86_400_000}d`];
}

/** The default as an operator writes it, checked by parsing it back; `undefined` when the directive has none. */
export function shownDefault(name: string, spec: DirectiveSpec): string | undefined {
  if (spec.default === undefined) return undefined;
  if (spec.repeatable && Array.isArray(spec.default) && spec.default.length === 0) return undefined;
  for (const written of candidates(spec.default)) {
    if (isDeepStrictEqual(spec.parse(written.split(' ')), spec.default)) return written;
  }
  throw new Error(`${name}: no way of writing its default ${String(spec.default)} parses back to it`);
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function defaultCell(scope: Scope, name: string, spec: DirectiveSpec, doc: DirectiveDoc | undefined): string {
  const shown = shownDefault(name, spec);
  if (shown !== undefined && doc?.defaultText) throw new Error(`${scope} ${name}: has a default (${shown}) and a defaultText; keep one`);
  if (shown !== undefined) return `\`${shown}\``;
  if (spec.required) return 'required';
  return doc?.defaultText ?? 'none';
}

const HEADINGS: Record<Scope, string> = {
  global: 'Global directives (outside any block)',
  Camera: '`<Camera NAME>` blocks: one upstream connection each',
  Stream: '`<Stream NAME>` blocks: served at `/NAME`',
  Redirect: '`<Redirect NAME>` blocks: `/NAME` redirects',
  Storage: '`<Storage NAME>` blocks: S3-compatible buckets for `vod://s3/NAME/KEY` and RecordArchive',
};

/** docs/configuration.md: every directive of the table with its block, type, default and text. */
export function renderConfigurationReference(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from conf/directives.ts and conf/directive-docs.ts by `npm run docs:config`; edit those, not this file. -->',
    '',
    'relay.conf is ffserver-style: one directive per line, `#` comments, `<Camera NAME>`, `<Stream NAME>` and',
    '`<Redirect NAME>` blocks. `npx relay --check relay.conf` prints every error with `file:line`, the directive and what is',
    'wrong, and suggests the closest known directive for a typo. Durations take a unit (`500ms`, `2s`, `1m`, `12h`, `7d`; a',
    'bare number is seconds), sizes `k`, `M`, `G` or `T` (binary units, `1.5G` allowed), bit rates are kbit/s with an',
    'optional `k` or `M` (`800k`, `2M`). relay.conf.example shows every directive with its default.',
  ];
  for (const scope of SCOPES) {
    lines.push('', `## ${HEADINGS[scope]}`, '', '| directive | type | default | what it does |', '| --- | --- | --- | --- |');
    for (const [name, spec] of Object.entries(DIRECTIVES[scope])) {
      const doc = DIRECTIVE_DOCS[scope][name];
      const type = directiveType(name, spec, doc) + (spec.repeatable && !doc?.type ? ' (repeatable)' : '');
      lines.push(`| \`${name}\` | ${cell(type)} | ${cell(defaultCell(scope, name, spec, doc))} | ${cell(doc?.text ?? '')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

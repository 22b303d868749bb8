// Guards the configuration reference: docs/configuration.md, the directive table and relay.conf.example must not drift apart.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { DIRECTIVE_DOCS } from '../../conf/directive-docs.ts';
import { DIRECTIVES, type Scope } from '../../conf/directives.ts';
import { directiveType, documentationGaps, renderConfigurationReference, shownDefault } from '../../conf/reference.ts';
import { integer, seconds } from '../../conf/values.ts';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/**
 * Commented lines of relay.conf.example that start with a capitalised word of two capitals but are prose, not a
 * directive: the word is the start of a wrapped sentence.
 */
const PROSE_WORDS = new Set(['JPEGs']);

/** The directives relay.conf.example shows (set or commented out) by block, and the words it uses like directives the table lacks. */
function scanExample(text: string): { shown: Set<string>; unknown: string[] } {
  let scope: Scope = 'global';
  const shown = new Set<string>();
  const unknown: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const commented = /^\s*#/.test(raw);
    const line = raw.replace(/^\s*#?\s*/, '');
    const block = /^<(\/?)(Camera|Stream|Redirect|Storage)(\s+[^>\s]+)?>\s*$/.exec(line);
    if (block) {
      scope = block[1] ? 'global' : (block[2] as Scope);
      return;
    }
    const name = /^([A-Za-z][A-Za-z0-9]*)(?=\s|$)/.exec(line)?.[1];
    if (!name) return;
    if (DIRECTIVES[scope][name]) shown.add(`${scope} ${name}`);
    // A commented word with two capitals (CamelCase or an acronym) reads as a directive; a set line always is one.
    else if ((!commented || /^[A-Z][A-Za-z0-9]*[A-Z]/.test(name)) && !PROSE_WORDS.has(name)) unknown.push(`line ${index + 1}: ${scope} ${name}`);
  });
  return { shown, unknown };
}

function tableDirectives(): string[] {
  return Object.entries(DIRECTIVES).flatMap(([scope, directives]) => Object.keys(directives).map((name) => `${scope} ${name}`));
}

t.test('every directive of the table has documentation text, and no text documents a directive that is gone', async (t) => {
  t.same(documentationGaps(), { undocumented: [], stale: [] });
});

t.test('docs/configuration.md is what `npm run docs:config` writes from the table', async (t) => {
  const generated = renderConfigurationReference();
  t.equal(read('docs/configuration.md'), generated, 'run `npm run docs:config` and commit docs/configuration.md');
  for (const name of tableDirectives()) t.ok(generated.includes(`| \`${name.split(' ')[1]}\` |`), `${name} has a row`);
});

t.test('relay.conf.example shows every directive of the table in its block, and no directive the table lacks', async (t) => {
  const { shown, unknown } = scanExample(read('relay.conf.example'));
  t.same(unknown, [], 'words used as directives that the table does not have in that block');
  t.same(tableDirectives().filter((name) => !shown.has(name)), [], 'directives relay.conf.example never shows');
});

t.test('the checks see drift', async (t) => {
  const example = read('relay.conf.example');
  const withoutZoom = scanExample(example.replace(/^\s*#\s*ControlZoomRange\b.*$/m, ''));
  t.notOk(withoutZoom.shown.has('Camera ControlZoomRange'), 'a directive removed from the example is missed');
  const renamed = scanExample(example.replace('# RecordMinFreeSpace 1G', '# RecordMinimumFree 1G'));
  t.match(renamed.unknown, [/global RecordMinimumFree/], 'a commented directive the table lacks is reported');
  const misplaced = scanExample(example.replace('  OnDemand no', '  HLSListSize 6'));
  t.match(misplaced.unknown, [/Camera HLSListSize/], 'a directive in the wrong block is reported');
  t.equal(shownDefault('X', { parse: seconds(5, 3600), default: 60_000 }), '60', 'a default in milliseconds is written in seconds');
  t.throws(() => shownDefault('X', { parse: integer(0, 10), default: 60 }), /no way of writing its default/, 'a default its parser refuses is an error');
  t.equal(directiveType('X', { parse: integer(0, 10) }, undefined), 'integer, 0 to 10');
  t.ok(DIRECTIVE_DOCS.global.HTTPPort, 'the docs table is keyed like the directive table');
});

/** Editable blocks of relay.conf. */
export type EditableKind = 'Camera' | 'Stream';

/** A directive's new lines (one per value; several for a repeatable directive), or null to remove it. */
export type DirectiveEdit = readonly string[] | null;

/** Directives that name a program: never settable through the API, whatever block they would stand in. */
export const PROGRAM_DIRECTIVES = new Set(['ffmpegpath', 'oneventexec']);

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const DIRECTIVE_PATTERN = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const MAX_VALUE_LENGTH = 2048;

/** Why an edit cannot be written as relay.conf lines, or undefined when it can. */
export function editProblem(name: string, directives: ReadonlyMap<string, DirectiveEdit>): string | undefined {
  if (!NAME_PATTERN.test(name)) return 'name: use letters, digits, ".", "_" and "-" (at most 128)';
  for (const [directive, values] of directives) {
    if (!DIRECTIVE_PATTERN.test(directive)) return `"${directive.slice(0, 64)}" is not a directive name`;
    if (PROGRAM_DIRECTIVES.has(directive.toLowerCase())) return `${directive}: names a program and can only be set in relay.conf itself`;
    for (const value of values ?? []) {
      if (value.length > MAX_VALUE_LENGTH) return `${directive}: value longer than ${MAX_VALUE_LENGTH} characters`;
      // One value is one line: a line break or control character would let a value add directives or blocks.
      if (/[\u0000-\u001f\u007f]/.test(value)) return `${directive}: control characters and line breaks are not allowed in a value`;
      if (value.trim() === '') return `${directive}: empty value (use null to remove a directive)`;
      if (/^\s*</.test(value)) return `${directive}: a value may not start with "<"`;
    }
  }
  return undefined;
}

/** The lines of `<Kind name>` ... `</Kind>` (0-based, inclusive), or undefined. Names match exactly, kinds in any case. */
export function findBlock(lines: readonly string[], kind: EditableKind, name: string): { start: number; end: number } | undefined {
  const open = new RegExp(`^\\s*<\\s*${kind}\\s+(\\S+?)\\s*>\\s*(#.*)?$`, 'i');
  const close = new RegExp(`^\\s*<\\/\\s*${kind}\\s*>`, 'i');
  for (let start = 0; start < lines.length; start++) {
    if (open.exec(lines[start]!)?.[1] !== name) continue;
    for (let end = start + 1; end < lines.length; end++) if (close.test(lines[end]!)) return { start, end };
    return undefined;
  }
  return undefined;
}

function directiveLines(directive: string, values: readonly string[], indent: string): string[] {
  return values.map((value) => `${indent}${directive} ${value}`);
}

/** relay.conf text with a new block appended at the end. */
export function addBlock(text: string, kind: EditableKind, name: string, directives: ReadonlyMap<string, DirectiveEdit>): string {
  const body = [...directives].flatMap(([directive, values]) => directiveLines(directive, values ?? [], '  '));
  const separator = text.length === 0 || text.endsWith('\n') ? '' : '\n';
  return `${text}${separator}<${kind} ${name}>\n${body.map((line) => `${line}\n`).join('')}</${kind}>\n`;
}

/**
 * relay.conf text with one block's directives changed in place: a directive present is replaced where it stands
 * (its first line; further lines of a repeatable one go), a new one goes before the closing tag, null removes it.
 * Comments, blank lines and the order of everything else stay as they were.
 */
export function changeBlock(text: string, kind: EditableKind, name: string, directives: ReadonlyMap<string, DirectiveEdit>): string | undefined {
  const lines = text.split('\n');
  const block = findBlock(lines, kind, name);
  if (!block) return undefined;
  const inner = lines.slice(block.start + 1, block.end);
  const indent = /^(\s*)\S/.exec(inner.find((line) => /\S/.test(line) && !/^\s*#/.test(line)) ?? '')?.[1] ?? '  ';
  const directiveOf = (line: string): string => /^\s*([A-Za-z][A-Za-z0-9]*)\b/.exec(line)?.[1]?.toLowerCase() ?? '';
  const edits = new Map([...directives].map(([directive, values]) => [directive.toLowerCase(), { directive, values }]));
  const placed = new Set<string>();
  const result: string[] = [];
  for (const line of inner) {
    const edit = edits.get(directiveOf(line));
    if (!edit || /^\s*#/.test(line)) {
      result.push(line);
      continue;
    }
    const key = edit.directive.toLowerCase();
    if (placed.has(key)) continue;
    placed.add(key);
    result.push(...directiveLines(edit.directive, edit.values ?? [], /^(\s*)/.exec(line)![1]!));
  }
  for (const [key, { directive, values }] of edits) if (!placed.has(key)) result.push(...directiveLines(directive, values ?? [], indent));
  return [...lines.slice(0, block.start + 1), ...result, ...lines.slice(block.end)].join('\n');
}

/** relay.conf text without the block (and nothing else). */
export function removeBlock(text: string, kind: EditableKind, name: string): string | undefined {
  const lines = text.split('\n');
  const block = findBlock(lines, kind, name);
  if (!block) return undefined;
  return [...lines.slice(0, block.start), ...lines.slice(block.end + 1)].join('\n');
}

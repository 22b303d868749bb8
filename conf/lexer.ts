/** One line of relay.conf, split into its directive and arguments. */
export interface Statement {
  readonly line: number;
  readonly directive: string;
  readonly args: readonly string[];
}

/** A `<Kind NAME> ... </Kind>` section. */
export interface Block {
  readonly kind: string;
  readonly name: string;
  readonly line: number;
  readonly statements: Statement[];
}

export interface LexResult {
  readonly global: Statement[];
  readonly blocks: Block[];
  readonly errors: Array<{ line: number; message: string }>;
}

const MAX_LINE_LENGTH = 4096;
const MAX_LINES = 100_000;

/** Splits an argument string on whitespace, honouring "double quotes" with \" and \\ escapes. */
export function splitArgs(text: string): string[] | string {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length || text[i] === '#') break; // a '#' that starts a word begins a trailing comment
    if (text[i] === '"') {
      let value = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      if (i >= text.length) return 'unterminated quoted string';
      i++;
      args.push(value);
    } else {
      const start = i;
      while (i < text.length && !/\s/.test(text[i]!)) i++;
      args.push(text.slice(start, i));
    }
  }
  return args;
}

/** Turns relay.conf text into global statements and blocks; structural errors are collected, not thrown. */
export function lex(text: string): LexResult {
  const global: Statement[] = [];
  const blocks: Block[] = [];
  const errors: Array<{ line: number; message: string }> = [];
  let open: Block | undefined;
  // A block left open when another began: either a missing close tag or an attempt to nest, told apart by a later stray close tag.
  let unclosed: { block: Block; error: { line: number; message: string }; innerKind: string; innerLine: number } | undefined;
  const lines = text.split(/\r?\n/);
  if (lines.length > MAX_LINES) {
    return { global, blocks, errors: [{ line: MAX_LINES, message: `file has more than ${MAX_LINES} lines` }] };
  }
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.length > MAX_LINE_LENGTH) {
      errors.push({ line, message: `line longer than ${MAX_LINE_LENGTH} characters` });
      return;
    }
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) return;
    if (content.includes('\0')) {
      errors.push({ line, message: 'line contains a NUL byte' });
      return;
    }
    const close = /^<\/\s*([A-Za-z]+)\s*>$/.exec(content);
    if (close) {
      const kind = close[1]!;
      if (!open && unclosed && unclosed.block.kind.toLowerCase() === kind.toLowerCase()) {
        unclosed.error.line = unclosed.innerLine;
        unclosed.error.message = `<${unclosed.innerKind}> inside <${unclosed.block.kind} ${unclosed.block.name}> opened on line ${unclosed.block.line}: blocks do not nest`;
        unclosed = undefined;
      } else if (!open) errors.push({ line, message: `</${kind}> closes no open block` });
      else if (open.kind.toLowerCase() !== kind.toLowerCase()) {
        errors.push({ line, message: `</${kind}> does not match <${open.kind} ${open.name}> opened on line ${open.line}` });
        open = undefined; // taken as the close tag it was meant to be, so that what follows is read normally
      } else open = undefined;
      return;
    }
    if (content.startsWith('<')) {
      const start = /^<\s*([A-Za-z]+)(?:\s+([^>]*?))?\s*>$/.exec(content);
      if (!start) {
        errors.push({ line, message: `malformed block tag "${content.slice(0, 80)}"` });
        return;
      }
      // A missing close tag is one error; the new block then starts as if the old one had been closed.
      unclosed = undefined;
      if (open) {
        const error = { line: open.line, message: `<${open.kind} ${open.name}> is not closed before <${start[1]}> on line ${line} (missing </${open.kind}>?)` };
        errors.push(error);
        unclosed = { block: open, error, innerKind: start[1]!, innerLine: line };
      }
      const name = start[2] ?? '';
      open = { kind: start[1]!, name, line, statements: [] };
      blocks.push(open);
      return;
    }
    const match = /^(\S+)\s*(.*)$/.exec(content)!;
    const args = splitArgs(match[2]!);
    if (typeof args === 'string') {
      errors.push({ line, message: `${match[1]}: ${args}` });
      return;
    }
    const statement: Statement = { line, directive: match[1]!, args };
    (open ? open.statements : global).push(statement);
  });
  if (open) errors.push({ line: open.line, message: `<${open.kind} ${open.name}> is never closed` });
  return { global, blocks, errors };
}

import { readFileSync } from 'node:fs';
import { BLOCK_KINDS, DIRECTIVES, IGNORED_FFSERVER_DIRECTIVES, type Scope } from './directives.ts';
import { lex, type Statement } from './lexer.ts';
import { buildConfig } from './build.ts';
import { closest, ValueError } from './values.ts';
import type { RelayConfig } from './types.ts';

/** One problem in a config file, located by file and line. */
export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** Thrown when a config has errors; `problems` lists every one, in line order. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.file}:${problem.line}: ${problem.message}`;
}

export interface ParseOptions {
  /** URL schemes that have an adapter; a Source with another scheme is an error. */
  readonly schemes: readonly string[];
}

export interface ParseResult {
  readonly config: RelayConfig;
  readonly warnings: readonly ConfigProblem[];
}

/** Values of one block or of the global scope, by directive name, with the line each came from. */
export type DirectiveValues = Map<string, { value: unknown; line: number }>;

/** A block after its directives were parsed. */
export interface ParsedBlock {
  readonly kind: Exclude<Scope, 'global'>;
  readonly name: string;
  readonly line: number;
  readonly values: DirectiveValues;
}

/** Problem collector shared by the parse stages. */
export class Problems {
  readonly errors: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];
  /** Camera names whose block already has an error, so that streams naming them add no second one. */
  readonly brokenCameras = new Set<string>();
  constructor(readonly file: string) {}
  error(line: number, message: string): void {
    this.errors.push({ file: this.file, line, message });
  }
  warn(line: number, message: string): void {
    this.warnings.push({ file: this.file, line, message });
  }
}

/** Reads and parses a relay.conf file. Throws ConfigError listing every problem. */
export function parseConfigFile(file: string, options: ParseOptions): ParseResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file, line: 0, message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }]);
  }
  return parseConfig(text, file, options);
}

/** Parses relay.conf text into a validated, frozen RelayConfig. Throws ConfigError listing every problem. */
export function parseConfig(text: string, file: string, options: ParseOptions): ParseResult {
  const problems = new Problems(file);
  const lexed = lex(text);
  for (const { line, message } of lexed.errors) problems.error(line, message);
  const global = parseDirectives('global', lexed.global, problems);
  const blocks: ParsedBlock[] = [];
  for (const block of lexed.blocks) {
    const kind = BLOCK_KINDS.find((known) => known.toLowerCase() === block.kind.toLowerCase());
    if (!kind) {
      const hint = closest(block.kind, BLOCK_KINDS);
      problems.error(block.line, `unknown block <${block.kind}>${hint ? ` (did you mean <${hint}>?)` : ''}`);
      if (hint === 'Camera') problems.brokenCameras.add(block.name);
      continue;
    }
    if (!block.name) {
      problems.error(block.line, `<${kind}> needs a name, e.g. <${kind} name>`);
      continue;
    }
    blocks.push({ kind, name: block.name, line: block.line, values: parseDirectives(kind, block.statements, problems) });
  }
  const config = buildConfig(file, global, blocks, problems, options.schemes);
  const byLine = (a: ConfigProblem, b: ConfigProblem): number => a.line - b.line;
  if (problems.errors.length > 0) throw new ConfigError(problems.errors.sort(byLine));
  return { config, warnings: problems.warnings.sort(byLine) };
}

function parseDirectives(scope: Scope, statements: readonly Statement[], problems: Problems): DirectiveValues {
  const specs = DIRECTIVES[scope];
  const known = Object.keys(specs);
  const values: DirectiveValues = new Map();
  for (const statement of statements) {
    const name = known.find((candidate) => candidate.toLowerCase() === statement.directive.toLowerCase());
    if (!name) {
      reportUnknown(scope, statement, problems);
      continue;
    }
    const spec = specs[name]!;
    const previous = values.get(name);
    if (previous && specs[name]!.repeatable) {
      const value = specs[name]!.parse(statement.args);
      if (value instanceof ValueError) problems.error(statement.line, `${name}: ${value.message}`);
      else (previous.value as Array<{ value: unknown; line: number }>).push({ value, line: statement.line });
      continue;
    }
    if (previous) {
      problems.error(statement.line, `${name}: given twice in this ${scopeLabel(scope)} (first on line ${previous.line})`);
      continue;
    }
    const value = spec.parse(statement.args);
    if (value instanceof ValueError) problems.error(statement.line, `${name}: ${value.message}`);
    else values.set(name, { value: specs[name]!.repeatable ? [{ value, line: statement.line }] : value, line: statement.line });
  }
  return values;
}

function reportUnknown(scope: Scope, statement: Statement, problems: Problems): void {
  const { directive, line } = statement;
  if (IGNORED_FFSERVER_DIRECTIVES.has(directive)) {
    problems.warn(line, `${directive}: an ffserver directive with no meaning here; ignored`);
    return;
  }
  const elsewhere = (Object.keys(DIRECTIVES) as Scope[]).filter(
    (other) => other !== scope && Object.keys(DIRECTIVES[other]).some((name) => name.toLowerCase() === directive.toLowerCase()),
  );
  if (elsewhere.length > 0) {
    const where = elsewhere.map(scopeLabel).join(' or ');
    problems.error(line, `${directive}: not allowed in ${scopeLabel(scope)}; it belongs in ${where}`);
    return;
  }
  const hint = closest(directive, Object.keys(DIRECTIVES[scope]));
  problems.error(line, `${directive}: unknown directive in ${scopeLabel(scope)}${hint ? ` (did you mean ${hint}?)` : ''}`);
}

function scopeLabel(scope: Scope): string {
  return scope === 'global' ? 'the global section' : `a <${scope}> block`;
}

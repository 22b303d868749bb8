/** Keeps the last few lines of a child's stderr, bounded in lines and in line length, for errors and /stat.html. */
export class StderrTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(
    private readonly maxLines = 20,
    private readonly maxLineLength = 400,
  ) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n|\r/);
    this.partial = (parts.pop() ?? '').slice(-this.maxLineLength);
    for (const line of parts) this.add(line);
  }

  /** The retained lines, oldest first, including an unterminated last line. */
  get text(): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.join('\n');
  }

  get lastLine(): string {
    return this.partial || this.lines[this.lines.length - 1] || '';
  }

  private add(line: string): void {
    if (!line.trim()) return;
    this.lines.push(line.length > this.maxLineLength ? `${line.slice(0, this.maxLineLength)}…` : line);
    if (this.lines.length > this.maxLines) this.lines.shift();
  }
}

// Progress of running lookups on stderr, so stdout stays the answer alone: one line rewritten in
// place on a terminal, a line per finished lookup elsewhere.
export class Progress {
  private done = 0;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  start(): void {
    if (this.stream.isTTY === true) this.stream.write(`looking up… 0/${this.total}`);
  }

  finished(label: string, durationMs: number): void {
    this.done += 1;
    if (this.stream.isTTY === true) this.stream.write(`\r\u001b[2Klooking up… ${this.done}/${this.total} (${label})`);
    else this.stream.write(`[${this.done}/${this.total}] ${label} (${Math.round(durationMs)} ms)\n`);
  }

  end(): void {
    if (this.stream.isTTY === true) this.stream.write('\r\u001b[2K');
  }
}

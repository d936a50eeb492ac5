// A one-line progress bar on stderr (only when stderr is a terminal; silent otherwise so that
// scripts and tests read clean output).
export class ProgressBar {
  private lastDrawn = 0;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, total: number): void {
    if (!this.stream.isTTY || total <= 0) return;
    const now = Date.now();
    if (done < total && now - this.lastDrawn < 100) return;
    this.lastDrawn = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  }

  finish(): void {
    if (this.stream.isTTY && this.lastDrawn > 0) this.stream.write('\n');
  }
}

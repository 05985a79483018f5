/**
 * Progress for a person at a terminal: one line on stderr, rewritten in place. When stderr is not
 * a terminal (a file, CI, a container log) nothing is drawn; the JSON log lines carry progress.
 */
export class StatusLine {
  private readonly enabled: boolean;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = Boolean(stream.isTTY);
  }

  update(text: string): void {
    if (!this.enabled) return;
    const width = this.stream.columns ?? 120;
    this.stream.write(`\r\x1b[2K${text.slice(0, width - 1)}`);
    this.drawn = true;
  }

  /** Leaves the last line on screen and moves to a new one. */
  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 2 * 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function bar(ratio: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, ratio)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

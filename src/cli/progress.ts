import type { ProgressEvent, ProgressSink } from '../progress.js';
import { formatBytes } from './output.js';

interface TableState {
  rows: number;
  estimated: number;
  started: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 90) return `${Math.ceil(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

/**
 * One live line on stderr while a long command runs, when stderr is a terminal and --quiet is
 * not given: per table rows done / the planner's estimate, rows/s, ETA, and bytes (and objects)
 * stored. Redrawn a few times a second and cleared at the end; never written to a pipe or a file.
 */
export class ProgressLine {
  private readonly tables = new Map<string, TableState>();
  private bytes = 0;
  private objects = 0;
  private skipped = 0;
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  static forCommand(label: string, quiet: boolean | undefined): ProgressLine | undefined {
    return !quiet && process.stderr.isTTY ? new ProgressLine(label).start() : undefined;
  }

  start(): this {
    this.timer = setInterval(() => this.draw(), 250);
    this.timer.unref();
    return this;
  }

  readonly sink: ProgressSink = (e: ProgressEvent) => {
    if (e.table !== undefined) {
      let t = this.tables.get(e.table);
      if (!t) {
        t = { rows: 0, estimated: 0, started: Date.now() };
        this.tables.set(e.table, t);
      }
      if (e.estimatedRows !== undefined) t.estimated = e.estimatedRows;
      t.rows += e.rows ?? 0;
    }
    this.bytes += e.bytes ?? 0;
    this.objects += e.objects ?? 0;
    this.skipped += e.skipped ?? 0;
  };

  line(): string {
    const parts: string[] = [];
    for (const [name, t] of this.tables) {
      const secs = (Date.now() - t.started) / 1000;
      const rate = secs > 0 ? t.rows / secs : 0;
      const est = Math.max(t.estimated, t.rows);
      const pct = t.estimated > 0 ? ` (${Math.min(100, Math.floor((t.rows / est) * 100))}%)` : '';
      const left = t.estimated > 0 && rate > 0 ? ` ETA ${eta((est - t.rows) / rate)}` : '';
      parts.push(
        `${name} ${fmt(t.rows)}${t.estimated > 0 ? ` / ~${fmt(t.estimated)}` : ''} rows${pct} ${fmt(rate)} rows/s${left}`,
      );
    }
    const secs = (Date.now() - this.started) / 1000;
    if (this.objects || this.bytes)
      parts.push(
        `${fmt(this.objects)} objects${this.skipped ? `, ${fmt(this.skipped)} skipped` : ''}, ${formatBytes(this.bytes)} (${(this.bytes / 1e6 / Math.max(secs, 0.001)).toFixed(1)} MB/s)`,
      );
    else if (this.skipped) parts.push(`${fmt(this.skipped)} skipped`);
    return `${this.label}: ${parts.join(' · ') || 'starting…'}`;
  }

  private draw(): void {
    const width = this.out.columns || 120;
    this.out.write(`\r\x1b[K${this.line().slice(0, width - 1)}`);
    this.drawn = true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.drawn) this.out.write('\r\x1b[K');
  }
}

/** Runs `f` with a progress line (when enabled), stopping it whatever happens. */
export async function withProgress<T>(
  label: string,
  quiet: boolean | undefined,
  f: (sink: ProgressSink | undefined) => Promise<T>,
): Promise<T> {
  const p = ProgressLine.forCommand(label, quiet);
  try {
    return await f(p?.sink);
  } finally {
    p?.stop();
  }
}

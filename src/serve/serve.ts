import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cron } from 'croner';
import { Counter, Gauge, Registry } from 'prom-client';
import { runBackup, type BackupOptions, type BackupSummary } from '../backup/run.js';
import { loadStrategy } from '../config/strategy.js';
import { DEFAULTS } from '../defaults.js';
import { errorMessage, inputError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { stateUrl } from '../state/url.js';
import { RunTaskGauges, runTaskReader, type RunTaskCounts } from './run-metrics.js';

export interface ServeOptions extends Omit<BackupOptions, 'strategy' | 'dryRun' | 'signal'> {
  strategy: string;
  /** host:port for /healthz and /metrics. Default 127.0.0.1:9464. Port 0 picks a free one. */
  listen?: string;
  /** Also run once at start, before the first scheduled time. */
  runNow?: boolean;
}

/** The watermark's cursor as a time, when it is one: PostgreSQL `2024-01-01 00:00:00.5+00`, MySQL `2024-01-01 00:00:00.500000` (UTC). */
export function cursorTimeMs(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2}(?::?\d{2})?)?$/.exec(text);
  if (!m) return undefined;
  const tz = m[3] ? (m[3].length === 3 ? `${m[3]}:00` : m[3].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')) : 'Z';
  const ms = Date.parse(`${m[1]}T${m[2]!.slice(0, 12)}${tz}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Prometheus metrics of the runs, per table (prom-client, a registry of its own). */
export class ServeMetrics {
  readonly registry = new Registry();
  private readonly rows = new Counter({
    name: 'tablevault_rows_total',
    help: 'Rows backed up',
    labelNames: ['table'],
    registers: [this.registry],
  });
  private readonly bytes = new Counter({
    name: 'tablevault_bytes_total',
    help: 'Bytes written to the destination',
    labelNames: ['table'],
    registers: [this.registry],
  });
  private readonly objects = new Counter({
    name: 'tablevault_objects_total',
    help: 'Objects written to the destination',
    labelNames: ['table'],
    registers: [this.registry],
  });
  private readonly failures = new Counter({
    name: 'tablevault_failures_total',
    help: 'Table runs that failed',
    labelNames: ['table'],
    registers: [this.registry],
  });
  private readonly runs = new Counter({
    name: 'tablevault_runs_total',
    help: 'Strategy runs, by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly duration = new Gauge({
    name: 'tablevault_last_run_duration_seconds',
    help: "Duration of the table's last run",
    labelNames: ['table'],
    registers: [this.registry],
  });
  private readonly lastSuccess = new Gauge({
    name: 'tablevault_last_success_timestamp_seconds',
    help: 'When the table last backed up successfully (Unix time)',
    labelNames: ['table'],
    registers: [this.registry],
  });
  private readonly lag = new Gauge({
    name: 'tablevault_watermark_lag_seconds',
    help: "Now minus the watermark's cursor, for tables with a time cursor",
    labelNames: ['table'],
    registers: [this.registry],
  });
  readonly running = new Gauge({
    name: 'tablevault_run_in_progress',
    help: '1 while a run is going',
    registers: [this.registry],
  });
  private readonly watermarks = new Map<string, number>();
  private readonly runTasks = new RunTaskGauges(this.registry);
  private readRunTasks?: () => Promise<RunTaskCounts | undefined>;

  constructor() {
    new Gauge({ name: 'tablevault_up', help: '1: the service is running', registers: [this.registry] }).set(1);
  }

  /** Where each scrape reads the shared runs' task counts (tablevault_run_tasks) from. */
  watchRuns(read: () => Promise<RunTaskCounts | undefined>): void {
    this.readRunTasks = read;
  }

  /** A run that failed before any table had a result (bad strategy file, unreachable database). */
  recordFailedRun(): void {
    this.runs.inc({ outcome: 'failed' });
  }

  record(s: BackupSummary): void {
    const failed = s.tables.filter((t) => t.status === 'failed').length;
    this.runs.inc({ outcome: failed === 0 ? 'ok' : failed === s.tables.length ? 'failed' : 'partial' });
    for (const t of s.tables) {
      this.duration.set({ table: t.table }, t.durationMs / 1000);
      if (t.status === 'failed') {
        this.failures.inc({ table: t.table });
        continue;
      }
      if (t.status !== 'ok') continue;
      this.rows.inc({ table: t.table }, t.rows);
      this.bytes.inc({ table: t.table }, t.bytes);
      this.objects.inc({ table: t.table }, t.files);
      this.lastSuccess.set({ table: t.table }, Date.now() / 1000);
      const at = t.watermarkAfter?.[0] !== undefined ? cursorTimeMs(t.watermarkAfter[0]) : undefined;
      if (at !== undefined) this.watermarks.set(t.table, at);
    }
  }

  async text(): Promise<string> {
    // the lag grows between runs: computed when scraped
    for (const [table, at] of this.watermarks) this.lag.set({ table }, Math.max(0, (Date.now() - at) / 1000));
    if (this.readRunTasks) this.runTasks.set(await this.readRunTasks());
    return this.registry.metrics();
  }
}

/** A scheduled run's key for `serve --join`: the prefix given (default serve) and the tick's time to the second. */
export function tickKey(prefix: string | undefined, tick: Date): string {
  return `${prefix ?? 'serve'}-${tick.toISOString().slice(0, 19).replace(/:/g, '')}Z`;
}

function parseListen(listen: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m || Number(m[2]) > 65535)
    throw inputError('OPTION', `--listen "${listen}" is not host:port (e.g. 127.0.0.1:9464)`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port: Number(m[2]) };
}

/**
 * Runs a strategy on its `schedule:` (croner; a run still going when the next is due is skipped,
 * never doubled), serving `/healthz` and `/metrics` (Prometheus text). Resolves after `signal`
 * fires: the run in flight stops at its next batch, then the HTTP server closes.
 *
 * @example
 * ```ts
 * import { serve } from 'tablevault';
 *
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * await serve({ strategy: 'strategies/nightly-incremental.yaml', listen: '0.0.0.0:9464' }, { signal: stop.signal });
 * ```
 */
export async function serve(
  opts: ServeOptions,
  deps: { logger?: Logger; signal: AbortSignal; onListening?: (address: string) => void },
): Promise<void> {
  const log = deps.logger ?? silentLogger();
  const strategy = loadStrategy(opts.strategy);
  if (!strategy.schedule)
    throw inputError(
      'STRATEGY',
      `${opts.strategy}: serve needs a schedule: line, e.g. schedule: "0 2 * * *" (every night at 02:00)`,
    );
  const { host, port } = parseListen(opts.listen ?? DEFAULTS.serve.listen);
  const metrics = new ServeMetrics();
  const runTasks = runTaskReader(stateUrl(opts.state, strategy), strategy.file, log);
  metrics.watchRuns(runTasks.read);
  let current: Promise<void> | undefined;
  let running = false;
  let lastOutcome: 'none' | 'ok' | 'failed' = 'none';

  // a replica of a shared serve (--join) joins each tick's run by the tick's time: every replica of
  // the strategy derives the same key. The run at start (--run-now) is this replica's own.
  const runOnce = async (tick?: Date | null) => {
    if (deps.signal.aborted) return;
    if (running) {
      log.warn('the previous run is still going; this one is skipped');
      return;
    }
    running = true;
    metrics.running.set(1);
    const started = Date.now();
    log.info('scheduled run starting');
    try {
      const { strategy: _s, listen: _l, runNow: _r, join, ...rest } = opts;
      const shared = join && tick ? { join: { ...join, key: tickKey(join.key, tick) } } : {};
      const summary = await runBackup(
        { ...rest, ...shared, strategy: opts.strategy, signal: deps.signal },
        { logger: log },
      );
      metrics.record(summary);
      lastOutcome = summary.tables.some((t) => t.status === 'failed') ? 'failed' : 'ok';
      log.info(
        {
          durationMs: Date.now() - started,
          tables: summary.tables.map((t) => ({ table: t.table, status: t.status, rows: t.rows })),
        },
        'scheduled run finished',
      );
    } catch (e) {
      lastOutcome = 'failed';
      metrics.recordFailedRun();
      log.error({ err: errorMessage(e) }, 'scheduled run failed');
    } finally {
      running = false;
      metrics.running.set(0);
    }
  };

  let job: Cron;
  try {
    // protect: a run still going when the next one is due makes that one skip
    job = new Cron(
      strategy.schedule,
      {
        protect: (j) =>
          log.warn({ next: j.nextRun()?.toISOString() }, 'the previous run is still going; this one is skipped'),
        paused: true,
      },
      (j: Cron) => {
        current = runOnce(j.currentRun());
        return current;
      },
    );
  } catch (e) {
    throw inputError(
      'STRATEGY',
      `${opts.strategy}: schedule "${strategy.schedule}" is not a cron expression (${errorMessage(e)}); e.g. "0 2 * * *"`,
    );
  }

  const server: Server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ status: 'ok', lastRun: lastOutcome, running, nextRun: job.nextRun()?.toISOString() ?? null }),
      );
    } else if (req.url === '/metrics') {
      metrics.text().then(
        (body) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(body);
        },
        (e: unknown) => {
          res.writeHead(500);
          res.end(errorMessage(e));
        },
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('tablevault serve: /healthz, /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        inputError('LISTEN', `cannot listen on ${host}:${port}: ${e.code ?? e.message}; pick another --listen`, e),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const address = `${addr.address}:${addr.port}`;
  log.info({ listen: address, schedule: strategy.schedule, next: job.nextRun()?.toISOString() }, 'serving');
  deps.onListening?.(address);
  job.resume();
  if (opts.runNow) {
    current = runOnce();
  }

  await new Promise<void>((resolve) => {
    if (deps.signal.aborted) resolve();
    else deps.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  job.stop();
  await current;
  await new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  await runTasks.close();
  log.info('stopped');
}

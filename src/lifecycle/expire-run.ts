import { errorMessage, inputError, isTablevaultError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { withStrategyTables } from './strategy-tables.js';
import { stateKey, type RunTable } from '../plan/run-tables.js';
import type { StateRepository } from '../state/repository.js';
import type { Destination } from '../store/open.js';
import { expireTable, type TargetExpiry } from './expire.js';
import { MirrorStores, retentionPolicy } from './expire-targets.js';
import type { TableResult } from '../backup/run.js';

export interface ExpireOptions {
  /** Path of the strategy file. */
  strategy: string;
  only?: string[];
  state?: string;
  /** Say what would be deleted; change nothing. */
  dryRun?: boolean;
  /** The time retention's keep_days counts back from (default: now). */
  now?: Date;
  hook?: (point: string) => void | Promise<void>;
}

export interface ExpireTableResult {
  table: string;
  /** ok: expired something; current: nothing to expire; busy: a backup or compaction holds the table. */
  status: 'ok' | 'current' | 'busy' | 'failed';
  targets: TargetExpiry[];
  durationMs: number;
  error?: string;
}

export interface ExpireSummary {
  strategy: string;
  dryRun: boolean;
  tables: ExpireTableResult[];
}

/**
 * `tablevault expire`: each incremental table with `retention:` (or `--only` some), one after
 * another under the table's lock, expired on the destination and on every mirror.
 */
export async function runExpire(opts: ExpireOptions, deps: { logger?: Logger } = {}): Promise<ExpireSummary> {
  const log = deps.logger ?? silentLogger();
  return withStrategyTables(opts, async ({ strategy, state, dest, tables: picked }) => {
    for (const t of picked)
      if (opts.only?.includes(t.name) && !(t.plan && t.settings.retention))
        throw inputError(
          'ONLY',
          t.plan
            ? `--only ${t.name}: it has no retention: in ${strategy.file}; add retention: { keep_runs: N } to it or to defaults`
            : `--only ${t.name}: a ${t.settings.strategy} table of ${strategy.file} keeps only its latest copy; only incremental tables expire`,
        );
    await state.migrate();
    const mirrors = new MirrorStores(strategy);
    try {
      const tables: ExpireTableResult[] = [];
      for (const t of picked.filter((x) => x.plan && x.settings.retention))
        tables.push(await expireLocked(t, { state, dest, mirrors, log: log.child({ table: t.name }), strategy, opts }));
      return { strategy: strategy.file, dryRun: Boolean(opts.dryRun), tables };
    } finally {
      mirrors.close();
    }
  });
}

/** One table's expiry under its lock; a failure is the table's result, bad input is thrown. */
export async function expireLocked(
  t: RunTable,
  c: {
    state: StateRepository;
    dest: Destination;
    mirrors: MirrorStores;
    log: Logger;
    strategy: { destination: string };
    opts: Pick<ExpireOptions, 'dryRun' | 'now' | 'hook'>;
    /** Mirrors to expire (their dest URLs); default all. */
    onlyMirrors?: string[];
    /** The caller holds the table's lock already. */
    locked?: boolean;
  },
): Promise<ExpireTableResult> {
  const started = Date.now();
  const policy = retentionPolicy(t.settings.retention)!;
  const run = () =>
    expireTable(t.plan!, {
      state: c.state,
      log: c.log,
      now: c.opts.now ?? new Date(),
      dryRun: Boolean(c.opts.dryRun),
      hook: c.opts.hook,
      targets: c.mirrors.targets(
        t.table,
        policy,
        { destination: c.strategy.destination, store: c.dest.store, prefix: t.plan!.tablePrefix },
        c.onlyMirrors,
      ),
    });
  try {
    const out = c.locked ? await run() : await c.state.withLock(stateKey(t, c.strategy.destination), run);
    if (out === 'busy') {
      c.log.warn('a backup or compaction holds this table; not expired');
      return { table: t.name, status: 'busy', targets: [], durationMs: Date.now() - started };
    }
    const status = out.some((x) => x.status === 'ok') ? 'ok' : 'current';
    return { table: t.name, status, targets: out, durationMs: Date.now() - started };
  } catch (e) {
    if (isTablevaultError(e) && e.exitCode === 2) throw e;
    c.log.error({ err: errorMessage(e) }, 'expire failed');
    return { table: t.name, status: 'failed', targets: [], error: errorMessage(e), durationMs: Date.now() - started };
  }
}

/**
 * retention: the expire after a table's successful run (backup, serve), on the destination and
 * each mirror whose sync succeeded; a failure or a busy table is a warning: the backup stands.
 */
export async function expireAfterRun(
  r: TableResult,
  t: RunTable,
  c: Omit<Parameters<typeof expireLocked>[1], 'onlyMirrors' | 'locked'> & {
    strategy: { destination: string; mirror: Array<{ dest: string }> };
  },
): Promise<void> {
  const synced = c.strategy.mirror
    .filter((_, i) => r.mirrors?.[i] && !r.mirrors[i]!.error && r.mirrors[i]!.failed === 0)
    .map((m) => m.dest.replace(/\/+$/, ''));
  const e = await expireLocked(t, { ...c, onlyMirrors: synced });
  if (e.status === 'failed' || e.status === 'busy') {
    r.warnings.push(
      `retention: the expire after this run ${e.status === 'busy' ? 'found the table busy' : `failed (${e.error})`}; run tablevault expire`,
    );
    return;
  }
  const primary = e.targets[0];
  r.expired = {
    ...(primary?.oldestKept ? { oldestKept: primary.oldestKept } : {}),
    runsKept: primary?.runsKept ?? 0,
    objects: e.targets.reduce((n, x) => n + x.objects, 0),
    bytes: e.targets.reduce((n, x) => n + x.bytes, 0),
  };
  for (const x of e.targets) if (x.error) r.warnings.push(`retention: ${x.dest}: ${x.error}`);
}

import { DEFAULTS } from '../defaults.js';
import { errorMessage, inputError, isTablevaultError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { EncoderPool } from '../parquet/encoder-pool.js';
import { withStrategyTables } from './strategy-tables.js';
import { stateKey, type RunTable } from '../plan/run-tables.js';
import type { StateRepository } from '../state/repository.js';
import type { openDestination } from '../store/open.js';
import type { UseEncoder } from '../backup/export-write.js';
import { compactSettings, compactTable, type CompactResult } from './compact.js';

export interface CompactOptions {
  /** Path of the strategy file. */
  strategy: string;
  /** Only these tables (as backup names them); default: every incremental table of the strategy. */
  only?: string[];
  /** State store URL; overrides `state:` in the file. */
  state?: string;
  /** Test hook, see CompactContext. */
  hook?: (point: string) => void | Promise<void>;
}

export interface CompactTableResult extends Partial<CompactResult> {
  table: string;
  /** ok: a new generation; current: nothing after the newest one (or no objects); busy: a backup holds the table. */
  status: 'ok' | 'current' | 'busy' | 'failed';
  durationMs: number;
  error?: string;
}

export interface CompactSummary {
  strategy: string;
  tables: CompactTableResult[];
}

/**
 * `tablevault compact`: a new base generation for each incremental table of a strategy (or
 * `--only` some), one after another, each under the table's lock, so never during its backup.
 */
export async function runCompact(opts: CompactOptions, deps: { logger?: Logger } = {}): Promise<CompactSummary> {
  const log = deps.logger ?? silentLogger();
  return withStrategyTables(opts, async ({ strategy, state, dest, tables }) => {
    for (const t of tables)
      if (opts.only?.includes(t.name) && !t.plan)
        throw inputError(
          'ONLY',
          `--only ${t.name}: a ${t.settings.strategy} table of ${strategy.file} is copied whole every run; only incremental tables are compacted`,
        );
    await state.migrate();
    const pool = new EncoderPool(1);
    try {
      const results: CompactTableResult[] = [];
      for (const t of tables.filter((x) => x.plan)) {
        results.push(
          await compactLocked(t, {
            state,
            store: dest.store,
            log: log.child({ table: t.name }),
            encoders: (fn) => pool.use(fn),
            destination: strategy.destination,
            hook: opts.hook,
          }),
        );
      }
      return { strategy: strategy.file, tables: results };
    } finally {
      await pool.close();
    }
  });
}

/** One table's compaction under its lock; a failure is the table's result, bad input is thrown. */
async function compactLocked(
  t: RunTable,
  c: {
    state: StateRepository;
    store: ReturnType<typeof openDestination>['store'];
    log: Logger;
    encoders: UseEncoder;
    destination: string;
    hook?: (point: string) => void | Promise<void>;
  },
): Promise<CompactTableResult> {
  const started = Date.now();
  try {
    const out = await c.state.withLock(stateKey(t, c.destination), () =>
      compactTable(t.plan!, {
        store: c.store,
        state: c.state,
        log: c.log,
        encoders: c.encoders,
        settings: compactSettings(t),
        keysPerPass: DEFAULTS.compact.keysPerPass,
        hook: c.hook,
      }),
    );
    if (out === 'busy') {
      c.log.warn('a backup holds this table; not compacted');
      return { table: t.name, status: 'busy', durationMs: Date.now() - started };
    }
    return {
      table: t.name,
      status: out.generation === undefined ? 'current' : 'ok',
      ...out,
      durationMs: Date.now() - started,
    };
  } catch (e) {
    if (isTablevaultError(e) && e.exitCode === 2) throw e;
    c.log.error({ err: errorMessage(e) }, 'compaction failed');
    return { table: t.name, status: 'failed', error: errorMessage(e), durationMs: Date.now() - started };
  }
}

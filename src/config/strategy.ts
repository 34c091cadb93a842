import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { inputError } from '../errors.js';
import { DEFAULTS as ALL_DEFAULTS } from '../defaults.js';
import { DURATION_PATTERN, DURATION_REQUIREMENT, wholeNumberRequirement } from './validate.js';
import { COMPRESSIONS, INTEGER_ENCODINGS } from '../parquet/compression.js';
import { resolveEndpoint } from '../s3/client.js';
import { parseS3Url } from '../s3/location.js';
import { checkNotOverlapping } from '../sync/overlap.js';
import { parseTablePattern, type TablePattern } from '../plan/patterns.js';

/**
 * A strategy file: what to back up, from where, to where. Validated once, up front; every error
 * names the file, the table and the key. Secrets never live in the file: any string may use
 * `${ENV_VAR}`, and `source`/`state` may be given as `{ env: NAME }`.
 *
 * ```yaml
 * source: ${SHOP_DB_URL}
 * destination: s3://backups/nightly
 * defaults: { compression: zstd, file_max_rows: 1000000 }
 * exclude: [public.tmp_*]
 * tables:
 *   - table: public.orders
 *     strategy: incremental
 *     cursor: updated_at
 *   - table: public.*            # every other base table of the schema
 *     strategy: incremental
 *     cursor: [updated_at, modified_at]
 *     when_no_cursor: full
 * ```
 *
 * `table:` is a name or a pattern (see plan/patterns.ts); which entry a table gets is worked out
 * against the catalog on every run (plan/tables.ts).
 */

const positive = z.number().superRefine((v, ctx) => {
  const need = wholeNumberRequirement(v);
  if (need !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be ${need}; got ${v}` });
});

/** `retention:` (expire): runs kept are the newest keep_runs and those younger than keep_days, the latest always. */
const RetentionSchema = z
  .object({
    keep_runs: positive.optional(),
    keep_days: z.number().positive().optional(),
  })
  .strict()
  .refine((r) => r.keep_runs !== undefined || r.keep_days !== undefined, {
    message: 'needs keep_runs, keep_days or both (e.g. { keep_runs: 30 })',
  });

const TableDefaults = z
  .object({
    /** Incremental tables: a new base generation (`compact`) after a successful run, once N runs have written since the last one. */
    compact_every: positive.optional(),
    batch_rows: positive.optional(),
    file_max_rows: positive.optional(),
    row_group_rows: positive.optional(),
    compression: z.enum(COMPRESSIONS as [string, ...string[]]).optional(),
    /** Integers, dates, times, timestamps: delta (DELTA_BINARY_PACKED) or plain, for readers without delta. */
    integer_encoding: z.enum(INTEGER_ENCODINGS as [string, ...string[]]).optional(),
    /** When the table's columns change between runs: evolve (added, dropped, widened columns) or fail. */
    on_schema_change: z.enum(['evolve', 'fail']).optional(),
    /** Full tables with more rows than this (estimated) are read in key ranges at once, with --parallel above 1. */
    chunk_rows: positive.optional(),
    /**
     * Incremental tables with a primary key: `detect` (default) finds the keys backed up but gone
     * from the source and records them (tombstone objects), so a restore leaves them out; `ignore`.
     */
    deletes: z.enum(['detect', 'ignore']).optional(),
    /** With `deletes: detect`, look for deleted keys every N runs of the table (default 1: every run). */
    delete_check_every: positive.optional(),
    /**
     * A run that finds more than this share of the table's backed-up rows deleted records none and
     * fails the table (a truncated table, the wrong database) until `--confirm-deletes`; default 0.5.
     */
    max_delete_fraction: z.number().gt(0).max(1).optional(),
    /**
     * Incremental tables: which runs stay restorable (`expire`, and after each successful run);
     * objects no kept run reads are deleted. Absent: every run is kept.
     */
    retention: RetentionSchema.optional(),
  })
  .strict();

const TableSchema = TableDefaults.extend({
  /** A table (`schema.table`, `table`) or a pattern (`public.*`, `shop.order_*`, `*.*`). */
  table: z.string().min(1),
  strategy: z.enum(['incremental', 'full']),
  /**
   * incremental: the column that grows with every insert and update (updated_at, or an
   * ever-growing id), or a list of candidates: the first that exists and can order rows is used.
   */
  cursor: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** incremental: a table with no candidate cursor (or, matched by a pattern, no primary key) is backed up `full`, `skip`ped, or fails the run (`fail`, default). */
  when_no_cursor: z.enum(['full', 'skip', 'fail']).optional(),
  /** Patterns this entry leaves out. */
  exclude: z.array(z.string().min(1)).optional(),
  /** PostgreSQL partitioned tables: backed up once through the `parent` (default), or `each` partition as a table. */
  partitions: z.enum(['parent', 'each']).optional(),
  /** Primary key columns; introspected when omitted. */
  primary_key: z.array(z.string().min(1)).min(1).optional(),
  /**
   * Re-read this much of the recent past each run, for rows committed late with a cursor older
   * than the watermark: a duration (`90s`, `15m`, `2h`, `1d`) for a temporal cursor, a number for
   * a numeric one. Versions already written are not written again.
   */
  lag: z.union([z.string().regex(DURATION_PATTERN, DURATION_REQUIREMENT), z.number().positive()]).optional(),
  /** What to do with rows whose cursor is NULL: `fail` (default) or `skip` them. */
  null_cursor: z.enum(['fail', 'skip']).optional(),
  columns: z.array(z.string().min(1)).min(1).optional(),
  where: z.string().min(1).optional(),
  /** Incremental tables with a date/timestamp cursor: `day` puts each object under dt=YYYY-MM-DD/ (Hive-style). */
  partition: z.enum(['none', 'day']).optional(),
}).strict();

const EnvRef = z.object({ env: z.string().min(1) }).strict();

/** An archive copy of the destination: after each table's successful run, its new objects are synced there. */
const MirrorSchema = z
  .object({
    dest: z.string().min(1),
    endpoint: z.string().optional(),
    region: z.string().optional(),
    profile: z.string().optional(),
    storage_class: z.string().optional(),
    sse: z.enum(['AES256', 'aws:kms']).optional(),
    sse_kms_key_id: z.string().optional(),
    /** The mirror's own retention (an archive that keeps longer); it never keeps less than the destination. */
    retention: RetentionSchema.optional(),
  })
  .strict();

const StrategySchema = z
  .object({
    source: z.union([z.string().min(1), EnvRef]),
    destination: z.string().min(1),
    state: z.union([z.string().min(1), EnvRef]).optional(),
    s3: z
      .object({
        endpoint: z.string().optional(),
        region: z.string().optional(),
        max_attempts: positive.optional(),
        sse: z.enum(['AES256', 'aws:kms']).optional(),
        sse_kms_key_id: z.string().optional(),
        storage_class: z.string().optional(),
      })
      .strict()
      .optional(),
    defaults: TableDefaults.optional(),
    /**
     * `run` (default): every read of a run reads one snapshot, so tables agree with one another;
     * `per-table`: each table (each chunk) reads a snapshot of its own, and no transaction is held
     * open for the whole run (for a source that serves one session, or to keep vacuum going).
     */
    snapshot: z.enum(['run', 'per-table']).optional(),
    /** Connections to the source a run opens at most (reads, the run's snapshot, catalog queries); default 4. */
    max_source_connections: positive.optional(),
    /** Patterns no entry's pattern matches (a table named exactly is still backed up). */
    exclude: z.array(z.string().min(1)).optional(),
    tables: z.array(TableSchema).min(1),
    mirror: z.array(MirrorSchema).optional(),
    /** For `serve`: a cron expression (5 fields, or 6 with seconds first), e.g. "0 2 * * *". */
    schedule: z.string().min(1).optional(),
  })
  .strict();

export type StrategyMirror = z.infer<typeof MirrorSchema>;

export type StrategyTable = z.infer<typeof TableSchema>;

/** A `tables:` entry with defaults filled in and its patterns parsed. */
export type StrategyEntry = StrategyTable & {
  batch_rows: number;
  file_max_rows: number;
  row_group_rows: number;
  chunk_rows: number;
  deletes: 'detect' | 'ignore';
  delete_check_every: number;
  max_delete_fraction: number;
  compression: (typeof COMPRESSIONS)[number];
  integer_encoding: (typeof INTEGER_ENCODINGS)[number];
  partitions: 'parent' | 'each';
  pattern: TablePattern;
  /** `exclude:`, parsed. */
  excludes: TablePattern[];
};

export interface Strategy {
  file: string;
  source: string;
  destination: string;
  state?: string;
  s3: {
    endpoint?: string;
    region?: string;
    max_attempts?: number;
    sse?: 'AES256' | 'aws:kms';
    sse_kms_key_id?: string;
    storage_class?: string;
  };
  tables: StrategyEntry[];
  /** Top-level `exclude:`: left out of every pattern. */
  exclude: TablePattern[];
  maxSourceConnections: number;
  snapshot: 'run' | 'per-table';
  mirror: StrategyMirror[];
  schedule?: string;
}

/** A table's keys when neither it nor `defaults:` sets them: the export defaults, under the file's names. */
const E = ALL_DEFAULTS.export;
const DEFAULTS = {
  batch_rows: E.batchRows,
  file_max_rows: E.fileMaxRows,
  row_group_rows: E.rowGroupRows,
  chunk_rows: E.chunkRows,
  deletes: 'detect' as const,
  delete_check_every: 1,
  max_delete_fraction: ALL_DEFAULTS.deletes.maxFraction,
  compression: E.compression,
  integer_encoding: E.integerEncoding,
};

function substituteEnv(value: unknown, file: string, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = process.env[name];
      if (v === undefined)
        throw inputError(
          'STRATEGY',
          `${file}: ${path} refers to \${${name}}, which is not set; export it before running`,
        );
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, file, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, file, path ? `${path}.${k}` : k)]),
    );
  }
  return value;
}

function describeIssue(file: string, doc: unknown, issue: z.ZodIssue): string {
  const path = issue.path;
  let where = file;
  if (path[0] === 'tables' && typeof path[1] === 'number') {
    const t = (doc as { tables?: Array<{ table?: unknown }> }).tables?.[path[1]];
    where += `: table ${typeof t?.table === 'string' ? t.table : `#${path[1] + 1}`}`;
    const rest = path.slice(2);
    if (rest.length) where += `: ${rest.join('.')}`;
  } else if (path.length) {
    where += `: ${path.join('.')}`;
  }
  if (issue.code === 'unrecognized_keys') return `${where}: unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return `${where}: is required`;
  return `${where}: ${issue.message}`;
}

function resolveRef(v: string | { env: string } | undefined, file: string, key: string): string | undefined {
  if (v === undefined || typeof v === 'string') return v;
  const value = process.env[v.env];
  if (!value) throw inputError('STRATEGY', `${file}: ${key} names the environment variable ${v.env}, which is not set`);
  return value;
}

/** Reads and validates a strategy file. Checks against the database come later, before reading. */
export function loadStrategy(file: string): Strategy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw inputError(
      'STRATEGY',
      `cannot read strategy file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw inputError('STRATEGY', `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = StrategySchema.safeParse(doc);
  if (!parsed.success) throw inputError('STRATEGY', describeIssue(file, doc, parsed.error.issues[0]!));
  const s = substituteEnv(parsed.data, file, '') as z.infer<typeof StrategySchema>;
  const names = new Set<string>();
  const pattern = (text: string, where: string): TablePattern => {
    try {
      return parseTablePattern(text);
    } catch (e) {
      throw inputError('STRATEGY', `${file}: ${where}: ${(e as Error).message}`);
    }
  };
  const exclude = (s.exclude ?? []).map((x, i) => pattern(x, `exclude[${i}]`));
  const entries = s.tables.map((t) => ({
    pattern: pattern(t.table, `table ${t.table}`),
    excludes: (t.exclude ?? []).map((x, i) => pattern(x, `table ${t.table}: exclude[${i}]`)),
  }));
  for (const [i, t] of s.tables.entries()) {
    if (names.has(t.table)) throw inputError('STRATEGY', `${file}: table ${t.table} is listed twice`);
    names.add(t.table);
    if (t.when_no_cursor && t.strategy !== 'incremental')
      throw inputError('STRATEGY', `${file}: table ${t.table}: when_no_cursor is only for strategy incremental`);
    if (t.exclude && entries[i]!.pattern.exact)
      throw inputError(
        'STRATEGY',
        `${file}: table ${t.table}: exclude is for patterns (such as public.*); this entry names one table`,
      );
    if (t.strategy === 'incremental' && !t.cursor)
      throw inputError(
        'STRATEGY',
        `${file}: table ${t.table}: cursor is required for strategy incremental (e.g. cursor: updated_at)`,
      );
    if (t.strategy === 'full' && t.retention)
      throw inputError(
        'STRATEGY',
        `${file}: table ${t.table}: retention is for incremental tables (a full table keeps only its latest copy)`,
      );
    if (t.strategy === 'full' && t.cursor)
      throw inputError('STRATEGY', `${file}: table ${t.table}: cursor is only for strategy incremental`);
    if (t.strategy === 'full' && t.partition === 'day')
      throw inputError(
        'STRATEGY',
        `${file}: table ${t.table}: partition: day is for incremental tables (a full export has no cursor to partition by)`,
      );
  }
  const mirror = s.mirror ?? [];
  if (mirror.length) {
    if (!s.destination.startsWith('s3://'))
      throw inputError('STRATEGY', `${file}: mirror: needs an s3:// destination (it is ${s.destination})`);
    const from = parseS3Url(s.destination, `${file}: destination`);
    mirror.forEach((m, i) => {
      const to = parseS3Url(m.dest, `${file}: mirror[${i}].dest`);
      if (m.sse_kms_key_id && m.sse !== 'aws:kms')
        throw inputError('STRATEGY', `${file}: mirror[${i}]: sse_kms_key_id needs sse: aws:kms`);
      try {
        checkNotOverlapping(
          { ...from, endpoint: resolveEndpoint(s.s3?.endpoint) },
          { ...to, endpoint: resolveEndpoint(m.endpoint ?? s.s3?.endpoint) },
        );
      } catch (e) {
        throw inputError('STRATEGY', `${file}: mirror[${i}].dest: ${(e as Error).message}`);
      }
    });
  }
  return {
    file,
    mirror,
    schedule: s.schedule,
    source: resolveRef(s.source, file, 'source')!,
    destination: s.destination,
    state: resolveRef(s.state, file, 'state'),
    s3: s.s3 ?? {},
    exclude,
    maxSourceConnections: s.max_source_connections ?? ALL_DEFAULTS.backup.maxSourceConnections,
    snapshot: s.snapshot ?? 'run',
    tables: s.tables.map((t, i) => ({
      ...DEFAULTS,
      ...s.defaults,
      ...t,
      partitions: t.partitions ?? 'parent',
      ...entries[i]!,
    })) as StrategyEntry[],
  };
}

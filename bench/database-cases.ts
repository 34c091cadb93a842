/**
 * The database bench's cases: tablevault `backup` of a strategy naming the schema's tables, and
 * what a user would run instead (`pg_dump -Fd -j N`, `mydumper -t N -c`, `mysqldump | gzip -1`),
 * on three sets of tables: the whole schema, its small tables (the fixed cost of a table) and one
 * small table (what the fixed cost is measured from).
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MixTable } from './database-mix.js';
import type { Measurement } from './measure.js';

export type TableSet = 'whole' | 'small' | 'one';

export interface DbCase {
  engine: 'pg' | 'mysql';
  set: TableSet;
  name: string;
  label: string;
  command: string;
  env?: NodeJS.ProcessEnv;
  /** Before each timed run, untimed: removes the previous run's output. */
  reset: () => void;
  /** Bytes the run wrote; throws when a tablevault run did not back up every table it was given. */
  bytes: (m: Measurement) => number;
}

export interface CaseContext {
  /** The tablevault bin. */
  cli: string;
  work: string;
  schema: string;
  jobs: number;
  sets: Record<TableSet, readonly MixTable[]>;
  /** Each engine's state store (see freshPgStateDb). */
  state: Record<DbCase['engine'], string>;
  /** With --s3: also back up the whole schema to this bucket (s3rver in its own process). */
  s3?: { env: NodeJS.ProcessEnv; bucket: string };
}

export const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The `tables:` names of a strategy backing up the whole schema: one pattern, matched against the catalog on each run. */
export function wholeSchemaEntries(schema: string): string[] {
  return [`${schema}.*`];
}

/** Total size of the files under `path` (or of the file itself). */
export function diskBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, name) => n + diskBytes(join(path, name)), 0);
}

function fresh(dir: string): () => void {
  return () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  };
}

/** A tablevault backup of `entries` (each `strategy: full`) with --parallel N, to a local directory or to S3. */
function tvCase(ctx: CaseContext, engine: DbCase['engine'], url: string, set: TableSet, to: 'local' | 's3'): DbCase {
  const tag = `${engine}-${set}-${to}`;
  const entries =
    set === 'whole' ? wholeSchemaEntries(ctx.schema) : ctx.sets[set].map((t) => `${ctx.schema}.${t.name}`);
  const local = join(ctx.work, `tv-${tag}`);
  const dest = to === 's3' ? `s3://${ctx.s3!.bucket}/${tag}` : pathToFileURL(local).href;
  const file = join(ctx.work, `strategy-${tag}.yaml`);
  // JSON strings are YAML strings
  const yaml = [
    `source: ${JSON.stringify(url)}`,
    `destination: ${JSON.stringify(dest)}`,
    `state: ${JSON.stringify(ctx.state[engine])}`,
    'tables:',
    ...entries.map((t) => `  - { table: ${JSON.stringify(t)}, strategy: full }`),
  ];
  writeFileSync(file, `${yaml.join('\n')}\n`);
  const tables = ctx.sets[set].length;
  const what = set === 'whole' ? 'whole schema' : set === 'small' ? `${tables} small tables` : 'one small table';
  return {
    engine,
    set,
    name: `tv_${set}${to === 's3' ? '_s3' : ''}`,
    label: `tablevault backup --parallel ${ctx.jobs} → ${to === 's3' ? 's3rver' : 'local dir'} (${what})`,
    // the bin itself (not `node dist/cli.js`), so its shebang flags apply as they do for users
    command: `${ctx.cli} --log-level warn backup ${sh(file)} --parallel ${ctx.jobs} --json`,
    env: to === 's3' ? { ...process.env, ...ctx.s3!.env } : process.env,
    reset: to === 's3' ? () => {} : fresh(local),
    bytes: (m) => {
      const s = JSON.parse(m.stdout) as { tables: Array<{ status: string; bytes: number }> };
      const ok = s.tables.filter((t) => t.status === 'ok').length;
      if (ok !== tables) throw new Error(`${tag}: tablevault backed up ${ok} of ${tables} tables`);
      // to S3: the objects' bytes as the summary counts them (manifests aside); locally, what is on disk
      return to === 's3' ? s.tables.reduce((n, t) => n + t.bytes, 0) : diskBytes(local);
    },
  };
}

/** pg_dump's connection flags for `url`, and its environment (the password in PGPASSWORD, never on the command line). */
export function pgClient(url: string): { conn: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const conn = `-h ${u.hostname} -p ${u.port || 5432} -U ${decodeURIComponent(u.username) || 'postgres'} -d ${u.pathname.slice(1)}`;
  return { conn, env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } };
}

/**
 * The mysql clients' connection flags for `url` (`host`), mydumper's (`myd`), and their environment.
 * mydumper 0.10 reads no MYSQL_PWD: a password goes in a defaults file in `work`, never on the command line.
 */
export function mysqlClient(url: string, work: string): { host: string; myd: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  const host = `-h ${u.hostname} -P ${u.port || 3306} -u ${decodeURIComponent(u.username)}`;
  const env = { ...process.env, MYSQL_PWD: password };
  if (!password) return { host, myd: host, env };
  const cnf = join(work, 'mydumper.cnf');
  writeFileSync(cnf, `[mydumper]\npassword=${password}\n`, { mode: 0o600 });
  return { host, myd: `--defaults-file=${sh(cnf)} ${host}`, env };
}

export function pgCases(ctx: CaseContext, url: string): DbCase[] {
  const { conn, env } = pgClient(url);
  const dump = (set: TableSet, label: string, select: string): DbCase => {
    const dir = join(ctx.work, `pg_dump-${set}`);
    return {
      engine: 'pg',
      set,
      name: `pg_dump_${set}`,
      label,
      command: `pg_dump ${conn} -Fd -j ${ctx.jobs} ${select} -f ${sh(dir)}`,
      env,
      reset: () => rmSync(dir, { recursive: true, force: true }), // pg_dump -Fd makes the directory itself
      bytes: () => diskBytes(dir),
    };
  };
  const small = ctx.sets.small.map((t) => `-t ${ctx.schema}.${t.name}`).join(' ');
  return [
    tvCase(ctx, 'pg', url, 'whole', 'local'),
    ...(ctx.s3 ? [tvCase(ctx, 'pg', url, 'whole', 's3')] : []),
    dump('whole', `pg_dump -Fd -j ${ctx.jobs} -n ${ctx.schema}`, `-n ${ctx.schema}`),
    tvCase(ctx, 'pg', url, 'small', 'local'),
    dump('small', `pg_dump -Fd -j ${ctx.jobs} (${ctx.sets.small.length} small tables)`, small),
    tvCase(ctx, 'pg', url, 'one', 'local'),
  ];
}

export function mysqlCases(ctx: CaseContext, url: string): DbCase[] {
  const { host, myd, env } = mysqlClient(url, ctx.work);
  const mydumper = (set: TableSet, label: string, select: string): DbCase => {
    const dir = join(ctx.work, `mydumper-${set}`);
    return {
      engine: 'mysql',
      set,
      name: `mydumper_${set}`,
      label,
      // every table is InnoDB: the global lock is held only while the threads open their snapshots
      command: `mydumper ${myd} -t ${ctx.jobs} -c --trx-consistency-only -B ${ctx.schema} ${select} -o ${sh(dir)}`,
      env,
      reset: fresh(dir),
      bytes: () => diskBytes(dir),
    };
  };
  const file = join(ctx.work, 'mysqldump.sql.gz');
  // mydumper 0.10 never finishes with -T db.table names (after the data, it waits); -B db -T table does
  const small = ctx.sets.small.map((t) => t.name).join(',');
  return [
    tvCase(ctx, 'mysql', url, 'whole', 'local'),
    ...(ctx.s3 ? [tvCase(ctx, 'mysql', url, 'whole', 's3')] : []),
    mydumper('whole', `mydumper -t ${ctx.jobs} -c -B ${ctx.schema}`, ''),
    {
      engine: 'mysql',
      set: 'whole',
      name: 'mysqldump_whole',
      label: `mysqldump --single-transaction ${ctx.schema} | gzip -1`,
      command: `mysqldump ${host} --single-transaction ${ctx.schema} | gzip -1 > ${sh(file)}`,
      env,
      reset: () => rmSync(file, { force: true }),
      bytes: () => diskBytes(file),
    },
    tvCase(ctx, 'mysql', url, 'small', 'local'),
    mydumper('small', `mydumper -t ${ctx.jobs} -c (${ctx.sets.small.length} small tables)`, `-T ${small}`),
    tvCase(ctx, 'mysql', url, 'one', 'local'),
  ];
}

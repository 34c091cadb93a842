import { Command, Option } from 'commander';
import type { RestoreMode, RestoreSummary } from '../restore/restore.js';
import type { RestoreManySummary } from '../restore/restore-many.js';
import { inputError } from '../errors.js';
import { CHOICES, DEFAULTS } from '../defaults.js';
import { wholeNumber } from './parse.js';
import { formatBytes, printTable } from './output.js';
import type { CliContext } from './context.js';
import { testHook } from './test-hook.js';

interface RestoreFlags {
  target: string;
  table?: string;
  tables?: string[];
  exclude?: string[];
  targetSchema?: string;
  jobs: number;
  asOf?: string;
  create?: boolean;
  mode: RestoreMode;
  batchRows: number;
  s3Endpoint?: string;
  s3Region?: string;
  json?: boolean;
}

export function restoreCommand(ctx: CliContext, setExitCode: (code: number) => void): Command {
  return new Command('restore')
    .description(
      "load a backup (a table's, or every table's under a prefix; full exports and incremental) into PostgreSQL or MySQL",
    )
    .argument(
      '<backup>',
      's3://bucket/prefix (every table backed up there), s3://bucket/prefix/<schema.table> (one table: the folder holding _manifest.json), or file:///dir[/<schema.table>]',
    )
    .requiredOption('--target <url>', 'database to load into: postgres://… or mysql://…')
    .option('--table <[schema.]table>', 'one table: the table to load into (default: each table under its own name)')
    .option('--tables <pattern...>', "a whole backup: only these tables (globs: 'shop.*', '*.orders')")
    .option('--exclude <pattern...>', 'a whole backup: not these tables')
    .option('--target-schema <schema>', 'a whole backup: every table into this schema (MySQL: database)')
    .option(
      '--jobs <n>',
      "connections loading at once: a whole backup's tables, and a large full export's objects (one table's too)",
      wholeNumber,
      1,
    )
    .option(
      '--as-of <run id>',
      'incremental backups: the table as it was after this backup run (run ids are in the manifest)',
    )
    .option(
      '--create',
      "create the table from the backup's schema when it does not exist (types mapped across engines)",
    )
    .addOption(
      new Option(
        '--mode <mode>',
        'insert: add rows; upsert: replace rows with the same primary key; replace: empty the table first',
      )
        .choices(CHOICES.restoreMode)
        .default(DEFAULTS.restore.mode),
    )
    .option('--batch-rows <n>', 'rows per batch and per transaction', wholeNumber, DEFAULTS.restore.batchRows)
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)')
    .option('--s3-region <region>', 'region (default: AWS_REGION, or us-east-1 with a custom endpoint)')
    .option('--json', 'print one JSON summary on stdout')
    .addHelpText(
      'after',
      `
Examples (restore drills into a scratch database):
  tablevault restore s3://backups/nightly/public.orders --target postgres://restore@scratch:5432/drill \\
    --table public.orders --create --mode replace
  tablevault restore s3://backups/nightly --target postgres://restore@scratch:5432/drill \\
    --tables 'shop.*' --target-schema drill --create --mode replace --jobs 2

Incremental backups restore to the newest version of every row (by cursor), or --as-of a run.
Into PostgreSQL values go by binary COPY where every column allows. A table --create makes, or
--mode replace replaces, is never left half-loaded: PostgreSQL loads it in one transaction (a very
large new table object by object, and a rerun resumes it), MySQL builds it as
tablevault_restoring_<name> and renames it into place when complete. The error says what was left.
With --jobs N, a large full export's objects load over N connections at once (PostgreSQL: a table
--create makes; MySQL: one it makes or replaces), built aside and put in place once all are in.
Exit codes: 0 restored, 1 failed while loading (into an existing table with insert or upsert, the
batches loaded before stay; a whole backup: every table failed), 3 some tables of a whole backup
failed, 2 bad input.`,
    )
    .action(async (from: string, f: RestoreFlags) => {
      // what one table's restore and a whole backup's take alike
      const common = {
        from,
        target: f.target,
        asOf: f.asOf,
        create: f.create,
        mode: f.mode,
        batchRows: f.batchRows,
        s3: { endpoint: f.s3Endpoint, region: f.s3Region },
        hook: testHook(),
      };
      if (f.table === undefined) {
        const { restoreTables } = await import('../restore/restore-many.js');
        const s = await ctx.withProgress('restore', (progress) =>
          restoreTables(
            { ...common, tables: f.tables, exclude: f.exclude, targetSchema: f.targetSchema, jobs: f.jobs, progress },
            { logger: ctx.logger() },
          ),
        );
        ctx.stdout(f.json ? `${JSON.stringify(s)}\n` : humanMany(s));
        setExitCode(s.failed === 0 ? 0 : s.failed === s.tables.length ? 1 : 3);
        return;
      }
      for (const [flag, v] of [
        ['--tables', f.tables],
        ['--exclude', f.exclude],
        ['--target-schema', f.targetSchema],
      ] as const)
        if (v !== undefined)
          throw inputError('OPTION', `${flag} is for a whole backup; drop --table to restore every table`);
      const table = f.table;
      const { restoreTable } = await import('../restore/restore.js');
      const s = await ctx.withProgress('restore', (progress) =>
        restoreTable({ ...common, table, jobs: f.jobs, progress }, { logger: ctx.logger() }),
      );
      ctx.stdout(f.json ? `${JSON.stringify(s)}\n` : human(s));
    });
}

function human(s: RestoreSummary): string {
  let out = printTable(
    ['table', 'backup', 'mode', 'files', 'rows', 'duration', 'peak RSS'],
    [
      [
        s.table,
        s.format.replace('tablevault.', '').replace('.v1', ''),
        `${s.mode}${s.created ? ' (created)' : ''}`,
        String(s.files),
        String(s.rows),
        `${(s.durationMs / 1000).toFixed(1)}s`,
        formatBytes(s.peakRssBytes),
      ],
    ],
  );
  if (s.deletedKeys) out += `${s.deletedKeys} deleted key(s) applied (tombstones)\n`;
  for (const w of s.warnings) out += `warning: ${w}\n`;
  return out;
}

function humanMany(s: RestoreManySummary): string {
  let out = printTable(
    ['table', 'into', 'backup', 'status', 'files', 'rows', 'duration'],
    s.tables.map((t) => [
      t.table,
      `${t.target}${t.created ? ' (created)' : ''}`,
      t.format ? t.format.replace('tablevault.', '').replace('.v1', '') : '',
      t.status,
      String(t.files),
      String(t.rows),
      `${t.seconds.toFixed(1)}s`,
    ]),
  );
  for (const t of s.tables) {
    for (const w of t.warnings) out += `warning: ${t.table}: ${w}\n`;
    if (t.error) out += `failed: ${t.table}: ${t.error}\n`;
  }
  out += `${s.tables.length} table(s), ${s.rows} rows${s.deletedKeys ? `, ${s.deletedKeys} deleted keys applied` : ''}, ${s.failed} failed, ${(s.durationMs / 1000).toFixed(1)}s, --jobs ${s.jobs}, peak RSS ${formatBytes(s.peakRssBytes)}\n`;
  return out;
}

import { Command, Option } from 'commander';
import type { RestoreMode, RestoreSummary } from '../restore/restore.js';
import { CHOICES, DEFAULTS } from '../defaults.js';
import { wholeNumber } from './parse.js';
import { formatBytes, printTable } from './output.js';
import type { CliContext } from './context.js';

interface RestoreFlags {
  target: string;
  table: string;
  asOf?: string;
  create?: boolean;
  mode: RestoreMode;
  batchRows: number;
  s3Endpoint?: string;
  s3Region?: string;
  json?: boolean;
}

export function restoreCommand(ctx: CliContext): Command {
  return new Command('restore')
    .description("load a table's backup (full export or incremental) into PostgreSQL or MySQL")
    .argument(
      '<backup>',
      's3://bucket/prefix/<schema.table> (the folder holding _manifest.json), or file:///dir/<schema.table>',
    )
    .requiredOption('--target <url>', 'database to load into: postgres://… or mysql://…')
    .requiredOption('--table <[schema.]table>', 'table to load into')
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
Example (a restore drill into a scratch database):
  tablevault restore s3://backups/nightly/public.orders --target postgres://restore@scratch:5432/drill \\
    --table public.orders --create --mode replace

Incremental backups restore to the newest version of every row (by cursor), or --as-of a run.
Into PostgreSQL values go by binary COPY where every column allows; with --create the table is
created, loaded and given its primary key in one transaction, so a failed restore leaves no table.
Exit codes: 0 restored, 1 failed while loading (batches loaded before stay, except with --create
into PostgreSQL), 2 bad input.`,
    )
    .action(async (from: string, f: RestoreFlags) => {
      const { restoreTable } = await import('../restore/restore.js');
      const s = await ctx.withProgress('restore', (progress) =>
        restoreTable(
          {
            from,
            target: f.target,
            table: f.table,
            asOf: f.asOf,
            create: f.create,
            mode: f.mode,
            batchRows: f.batchRows,
            s3: { endpoint: f.s3Endpoint, region: f.s3Region },
            progress,
          },
          { logger: ctx.logger() },
        ),
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
  for (const w of s.warnings) out += `warning: ${w}\n`;
  return out;
}

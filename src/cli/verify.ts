import { Command } from 'commander';
import type { VerifySummary } from '../verify/verify.js';
import { printTable } from './output.js';
import type { CliContext } from './context.js';

interface VerifyFlags {
  only?: string[];
  source?: string;
  table?: string;
  dest?: string;
  tables?: string[];
  exclude?: string[];
  targetSchema?: string;
  s3Endpoint?: string;
  s3Region?: string;
  json?: boolean;
}

export function verifyCommand(ctx: CliContext, setExit: (code: number) => void): Command {
  return new Command('verify')
    .description('prove a backup equals its table: row counts, then checksums per key range, then the keys that differ')
    .argument('[strategy.yaml]', 'verify every table of a strategy file (or --only some)')
    .option('--only <table...>', 'with a strategy file: only these tables')
    .option('--source <url>', 'without a strategy file: the database (postgres://… or mysql://…)')
    .option('--table <[schema.]table>', 'without a strategy file: the table (none: every table backed up under --dest)')
    .option(
      '--dest <s3://bucket/prefix>',
      "without a strategy file: where it was backed up (the prefix given to export or backup, or the table's own prefix)",
    )
    .option('--tables <pattern...>', "without --table: only these tables of the backup (globs: 'shop.*')")
    .option('--exclude <pattern...>', 'without --table: not these tables')
    .option(
      '--target-schema <schema>',
      'without --table: the tables are in this schema (MySQL: database) of --source (a restore drill)',
    )
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)')
    .option('--s3-region <region>', 'region (default: AWS_REGION, or us-east-1 with a custom endpoint)')
    .option('--json', 'print one JSON summary on stdout')
    .addHelpText(
      'after',
      `
Examples:
  tablevault verify strategies/nightly-incremental.yaml
  tablevault verify --source postgres://backup@db:5432/shop --table public.orders --dest s3://backups/nightly
  tablevault verify --source postgres://restore@scratch:5432/drill --dest s3://backups/nightly --target-schema drill

An incremental backup is compared as a restore would load it (the newest version of each row).
Rows deleted in the source are reported as "in backup, not in source": a cursor-based incremental
backup does not capture deletions. Exit codes: 0 equal, 1 differences (reported) or a failure, 2 bad input.`,
    )
    .action(async (strategy: string | undefined, f: VerifyFlags) => {
      const { verify } = await import('../verify/verify.js');
      const s = await ctx.withProgress('verify', (progress) =>
        verify(
          {
            strategy,
            only: f.only,
            source: f.source,
            table: f.table,
            dest: f.dest,
            tables: f.tables,
            exclude: f.exclude,
            targetSchema: f.targetSchema,
            s3: { endpoint: f.s3Endpoint, region: f.s3Region },
            progress,
          },
          { logger: ctx.logger() },
        ),
      );
      ctx.stdout(f.json ? `${JSON.stringify(s)}\n` : human(s));
      setExit(s.equal ? 0 : 1);
    });
}

function human(s: VerifySummary): string {
  let out = printTable(
    [
      'table',
      'result',
      'source rows',
      'backup rows',
      'ranges differing',
      'missing',
      'not in source',
      'changed',
      'duration',
    ],
    s.tables.map((t) => [
      t.table,
      t.error ? 'failed' : t.skipped ? 'not compared' : t.equal ? 'equal' : 'DIFFERENT',
      String(t.sourceRows),
      String(t.backupRows),
      String(t.rangesDiffering),
      String(t.missingFromBackup.count),
      String(t.notInSource.count),
      String(t.changed.count),
      `${(t.durationMs / 1000).toFixed(1)}s`,
    ]),
  );
  for (const t of s.tables) {
    if (t.error) out += `${t.table}: ${t.error}\n`;
    if (t.skipped) out += `${t.table}: not compared: ${t.skipped}\n`;
    if (t.missingFromBackup.count)
      out += `${t.table}: in source, missing from backup: ${t.missingFromBackup.keys.join(' | ')}${t.missingFromBackup.count > t.missingFromBackup.keys.length ? ' …' : ''}\n`;
    if (t.notInSource.count)
      out += `${t.table}: in backup, not in source (deleted there?): ${t.notInSource.keys.join(' | ')}${t.notInSource.count > t.notInSource.keys.length ? ' …' : ''}\n`;
    if (t.changed.count)
      out += `${t.table}: values differ: ${t.changed.keys.join(' | ')}${t.changed.count > t.changed.keys.length ? ' …' : ''}\n`;
  }
  return out;
}

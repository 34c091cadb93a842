import { Command } from 'commander';
import type { BackupSummary } from '../backup/run.js';
import type { StatusRow } from '../backup/status.js';
import { DEFAULTS, MAX_PARALLEL } from '../defaults.js';
import { durationMs, wholeNumber } from './parse.js';
import { inputError } from '../errors.js';
import type { JoinOptions } from '../backup/join.js';
import { testHook } from './test-hook.js';
import { addMemoryFlags, memoryOptions, type MemoryFlags } from './memory-flags.js';
import { formatBytes, printTable } from './output.js';
import type { CliContext } from './context.js';

const wm = (w: string[] | null) => (w ? w.join(', ') : '-');

/** Exit code of a backup: 0 all done (busy tables included), 1 all failed, 3 some failed. */
export function backupExitCode(s: BackupSummary): number {
  const failed = s.tables.filter((t) => t.status === 'failed').length;
  if (failed === 0) return 0;
  return failed === s.tables.length ? 1 : 3;
}

export function backupCommand(ctx: CliContext, setExit: (code: number) => void): Command {
  return addMemoryFlags(new Command('backup'))
    .description('back up the tables of a strategy file: incremental tables from their watermark, full tables whole')
    .argument('<strategy.yaml>', 'the strategy file')
    .option(
      '--only <table...>',
      'back up only these tables (as named in the file, or schema.table for a table a pattern matched)',
    )
    .option(
      '--dry-run',
      'check the file against the databases and print the plan (each table, and which entry it got and why); read and write nothing',
    )
    .option(
      '--state <url>',
      'state store (postgres://… or mysql://…); default: state: in the file, else the source database',
    )
    .option(
      '--parallel <n>',
      `reads at once: tables, or chunks of a full table above chunk_rows (1-${MAX_PARALLEL}; at most max_source_connections - 1)`,
      wholeNumber,
      DEFAULTS.backup.parallel,
    )
    .option(
      '--reset-table <table...>',
      'start these incremental tables over: a new full backup under a new schema version (after an incompatible schema change)',
    )
    .option(
      '--confirm-deletes <table...>',
      'record the deleted keys found in these tables even above max_delete_fraction (after checking the source is right)',
    )
    .option(
      '--join [key]',
      'share this run with every process given the same key (any machine, same state store): the first plans it, all claim tables under leases until none is left; no key: the Kubernetes Indexed Job’s name, else TABLEVAULT_RUN_KEY',
    )
    .option(
      '--lease <duration>',
      'with --join: how long a claimed table stays its worker’s without a heartbeat (default 60s; renewed every third of it)',
      durationMs,
    )
    .option('--exit-when-idle', 'with --join: exit once the only tables left are held by live workers')
    .option('--worker-id <id>', 'with --join: what status shows as this process (default host:pid)')
    .option('--json', 'print one JSON summary on stdout')
    .addHelpText(
      'after',
      `
Example:
  SHOP_DB_URL=postgres://backup:…@db:5432/shop tablevault backup strategies/nightly-incremental.yaml
  tablevault backup strategies/nightly-incremental.yaml --join nightly-2026-12-02   # on every worker

Exit codes: 0 every table done (tables another run holds are reported busy), 1 every table failed,
2 bad input (strategy file, options), 3 some tables failed and others were done.`,
    )
    .action(
      async (
        file: string,
        flags: MemoryFlags & {
          only?: string[];
          dryRun?: boolean;
          state?: string;
          parallel: number;
          resetTable?: string[];
          confirmDeletes?: string[];
          join?: string | true;
          lease?: number;
          exitWhenIdle?: boolean;
          workerId?: string;
          json?: boolean;
        },
      ) => {
        const { runBackup } = await import('../backup/run.js');
        const summary = await ctx.withProgress('backup', (progress) =>
          runBackup(
            {
              strategy: file,
              progress,
              only: flags.only,
              dryRun: flags.dryRun,
              state: flags.state,
              parallel: flags.parallel,
              memory: memoryOptions(flags),
              hook: testHook(),
              signal: ctx.stopSignal(),
              resetTables: flags.resetTable,
              confirmDeletes: flags.confirmDeletes,
              ...(flags.join !== undefined ||
              flags.lease !== undefined ||
              flags.exitWhenIdle ||
              flags.workerId !== undefined
                ? { join: joinFlags(flags) }
                : {}),
            },
            { logger: ctx.logger() },
          ),
        );
        if (flags.json) ctx.stdout(`${JSON.stringify(summary)}\n`);
        else if (flags.dryRun) ctx.stdout(dryRunText(summary));
        else {
          ctx.stdout(
            printTable(
              ['table', 'strategy', 'status', 'rows', 'files', 'bytes', 'watermark', 'duration'],
              summary.tables.map((t) => [
                t.table,
                t.strategy,
                t.status,
                String(t.rows),
                String(t.files),
                formatBytes(t.bytes),
                wm(t.watermarkAfter),
                `${(t.durationMs / 1000).toFixed(1)}s`,
              ]),
            ),
          );
          for (const t of summary.tables) {
            if (t.new && t.status === 'ok') ctx.stdout(`${t.table}: new table, backed up from scratch\n`);
            if (t.error) ctx.stdout(`${t.table}: ${t.error}\n`);
            for (const w of t.warnings) ctx.stdout(`${t.table}: warning: ${w}\n`);
            for (const m of t.mirrors ?? [])
              if (!m.error)
                ctx.stdout(
                  `${t.table}: mirrored to ${m.dest}: ${m.copied} copied, ${m.skipped} already there, ${formatBytes(m.bytes)}\n`,
                );
          }
          for (const g of summary.goneTables)
            ctx.stdout(`${g.table}: no longer matched (last seen ${g.lastSeen}); its backups stay\n`);
        }
        setExit(backupExitCode(summary));
      },
    );
}

/** `--join` and the flags only it takes; those without it are bad input. */
export function joinFlags(f: {
  join?: string | true;
  lease?: number;
  exitWhenIdle?: boolean;
  workerId?: string;
}): JoinOptions {
  if (f.join === undefined)
    throw inputError('OPTION', '--exit-when-idle and --worker-id go with --join (a run shared by several processes)');
  return {
    ...(typeof f.join === 'string' ? { key: f.join } : {}),
    // durationMs parsed it to milliseconds already; none: the default lease (join.ts)
    ...(f.lease !== undefined ? { leaseMs: f.lease } : {}),
    ...(f.exitWhenIdle ? { exitWhenIdle: true } : {}),
    ...(f.workerId !== undefined ? { workerId: f.workerId } : {}),
  };
}

/** `--dry-run`: each table, what it would get, and which entry of the file it got and why. */
function dryRunText(s: BackupSummary): string {
  const table = printTable(
    ['table', 'strategy', 'status', 'watermark', 'entry'],
    s.tables.map((t) => [
      t.table,
      t.strategy,
      t.status === 'planned' && t.new ? 'planned (new)' : t.status,
      wm(t.watermarkAfter),
      t.why ?? '',
    ]),
  );
  const notes = [
    ...s.tables.flatMap((t) => t.warnings.map((w) => `${t.table}: ${w}\n`)),
    ...s.goneTables.map((g) => `${g.table}: no longer matched (last seen ${g.lastSeen}); its backups stay\n`),
  ];
  return table + notes.join('');
}

export function statusCommand(ctx: CliContext): Command {
  return new Command('status')
    .description(
      'show each table of a strategy (watermark, last run, rows/files/bytes backed up) and its shared runs in progress (tasks done, claimed by whom, waiting, failed, expired leases)',
    )
    .argument('<strategy.yaml>', 'the strategy file')
    .option('--state <url>', 'state store URL (default: state: in the file, else the source database)')
    .option('--json', 'print JSON on stdout')
    .addHelpText('after', '\nExample:\n  tablevault status strategies/nightly-incremental.yaml --json')
    .action(async (file: string, flags: { state?: string; json?: boolean }) => {
      const [{ backupStatus }, { sharedRunStatus }, { sharedRunsText }] = await Promise.all([
        import('../backup/status.js'),
        import('../backup/shared-runs.js'),
        import('./shared-runs-text.js'),
      ]);
      const rows: StatusRow[] = await backupStatus({ strategy: file, state: flags.state });
      const runs = await sharedRunStatus({ strategy: file, state: flags.state });
      if (flags.json) ctx.stdout(`${JSON.stringify({ strategy: file, tables: rows, runs })}\n`);
      else {
        ctx.stdout(
          printTable(
            [
              'table',
              'strategy',
              'watermark',
              'files',
              'rows',
              'bytes',
              'held now',
              'gens',
              'runs kept',
              'oldest restorable',
              'schema',
              'last run',
            ],
            rows.map((r) => [
              r.table,
              r.strategy,
              wm(r.watermark),
              String(r.files),
              String(r.rows),
              formatBytes(r.bytes),
              r.history ? `${r.history.objects} objects ${formatBytes(r.history.bytes)}` : '-',
              r.history ? String(r.history.generations) : '-',
              r.history ? String(r.history.runsKept) : '-',
              r.history?.oldestRun ? `${r.history.oldestRun.runId} (${r.history.oldestRun.at})` : '-',
              r.schemaVersion ? `v${r.schemaVersion}` : '-',
              r.goneSince
                ? `gone (last seen ${r.goneSince})`
                : r.lastRun
                  ? `${r.lastRun.status} ${r.lastRun.finishedAt ?? r.lastRun.startedAt}`
                  : 'never',
            ]),
          ),
        );
        for (const r of rows)
          for (const c of r.schemaChanges ?? [])
            ctx.stdout(`${r.table}: schema v${c.version} (${c.at}): ${c.changes.join('; ')}\n`);
        ctx.stdout(sharedRunsText(runs));
      }
    });
}

export function migrateCommand(ctx: CliContext): Command {
  return new Command('migrate')
    .description('create or upgrade the state store schema (backup and status do this too)')
    .argument('[strategy.yaml]', 'take the state store from this strategy file')
    .option('--state <url>', 'state store URL')
    .addHelpText(
      'after',
      '\nExamples:\n  tablevault migrate strategies/nightly-incremental.yaml\n  tablevault migrate --state postgres://tablevault@statedb:5432/tablevault',
    )
    .action(async (file: string | undefined, flags: { state?: string }) => {
      const [{ loadStrategy }, { openState }, { stateUrl }] = await Promise.all([
        import('../config/strategy.js'),
        import('../state/repository.js'),
        import('../state/url.js'),
      ]);
      const state = await openState(stateUrl(flags.state, file ? () => loadStrategy(file) : undefined));
      try {
        const applied = await state.migrate();
        ctx.stdout(
          applied.length ? `applied: ${applied.join(', ')}\n` : `state store at ${state.label} is up to date\n`,
        );
      } finally {
        await state.close();
      }
    });
}

import { Command } from 'commander';
import type { ExpireSummary } from '../lifecycle/expire-run.js';
import { testHook } from './test-hook.js';
import { formatBytes, printTable, tablesExitCode } from './output.js';
import type { CliContext } from './context.js';

export function expireCommand(ctx: CliContext, setExit: (code: number) => void): Command {
  return new Command('expire')
    .description(
      "delete what no kept run needs: each incremental table's runs past its retention: (keep_runs, keep_days), on the destination and its mirrors",
    )
    .argument('<strategy.yaml>', 'the strategy file')
    .option('--only <table...>', 'expire only these incremental tables (as backup names them)')
    .option('--dry-run', 'print what would be deleted and the bytes it would free; change nothing')
    .option(
      '--state <url>',
      'state store (postgres://… or mysql://…); default: state: in the file, else the source database',
    )
    .option('--json', 'print one JSON summary on stdout')
    .addHelpText(
      'after',
      `
A run is kept while it is among the newest keep_runs or younger than keep_days; the latest
always. An expired run's objects are deleted only once no kept run reads them: without a
compaction (compact, compact_every) after it, every object is still read, and only restore
--as-of the expired run is refused. backup runs this after each successful table run, and
so does serve. A mirror keeps what the destination keeps, or more with its own retention:.

Example:
  tablevault expire strategies/nightly-incremental.yaml --dry-run

Exit codes: 0 every table expired (or current, or busy), 1 every table failed, 2 bad input,
3 some tables failed.`,
    )
    .action(async (file: string, flags: { only?: string[]; state?: string; json?: boolean; dryRun?: boolean }) => {
      const { runExpire } = await import('../lifecycle/expire-run.js');
      const summary = await runExpire(
        { strategy: file, only: flags.only, state: flags.state, dryRun: flags.dryRun, hook: testHook() },
        { logger: ctx.logger() },
      );
      if (flags.json) ctx.stdout(`${JSON.stringify(summary)}\n`);
      else printSummary(ctx, summary);
      setExit(tablesExitCode(summary.tables));
    });
}

function printSummary(ctx: CliContext, summary: ExpireSummary): void {
  const verb = summary.dryRun ? 'would delete' : 'deleted';
  ctx.stdout(
    printTable(
      ['table', 'target', 'status', 'oldest kept run', 'runs kept', 'runs expired', verb, 'bytes freed'],
      summary.tables.flatMap((t) =>
        t.targets.length
          ? t.targets.map((x) => [
              t.table,
              x.dest,
              x.status,
              x.oldestKept ? `${x.oldestKept.runId} (${x.oldestKept.at})` : '-',
              String(x.runsKept),
              String(x.runsExpired),
              `${x.objects} objects`,
              formatBytes(x.bytes),
            ])
          : [[t.table, '-', t.status, '-', '-', '-', '-', '-']],
      ),
    ),
  );
  for (const t of summary.tables) {
    for (const x of t.targets) {
      for (const k of x.keys) ctx.stdout(`${verb} ${k}\n`);
      if (x.error) ctx.stdout(`${t.table}: ${x.dest}: ${x.error}\n`);
    }
    if (t.error) ctx.stdout(`${t.table}: ${t.error}\n`);
  }
  if (summary.dryRun) ctx.stdout('dry run: nothing was changed\n');
}

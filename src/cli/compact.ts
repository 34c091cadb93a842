import { Command } from 'commander';
import { testHook } from './test-hook.js';
import { formatBytes, printTable, tablesExitCode } from './output.js';
import type { CliContext } from './context.js';

export function compactCommand(ctx: CliContext, setExit: (code: number) => void): Command {
  return new Command('compact')
    .description(
      'write a new base generation of each incremental table: its latest state, one version per key, so a restore of the latest state reads it and the runs after it',
    )
    .argument('<strategy.yaml>', 'the strategy file')
    .option('--only <table...>', 'compact only these incremental tables (as backup names them)')
    .option(
      '--state <url>',
      'state store (postgres://… or mysql://…); default: state: in the file, else the source database',
    )
    .option('--json', 'print one JSON summary on stdout')
    .addHelpText(
      'after',
      `
Every object stays: restore --as-of a run before the generation reads them as before.
A table a backup holds is skipped (busy); a compaction killed midway is cleaned up by the next.

Example:
  tablevault compact strategies/nightly-incremental.yaml --only public.orders

Exit codes: 0 every table compacted (or already current, or busy), 1 every table failed,
2 bad input, 3 some tables failed.`,
    )
    .action(async (file: string, flags: { only?: string[]; state?: string; json?: boolean }) => {
      const { runCompact } = await import('../lifecycle/compact-run.js');
      const summary = await runCompact(
        { strategy: file, only: flags.only, state: flags.state, hook: testHook() },
        { logger: ctx.logger() },
      );
      if (flags.json) ctx.stdout(`${JSON.stringify(summary)}\n`);
      else {
        ctx.stdout(
          printTable(
            ['table', 'status', 'generation', 'rows', 'objects', 'bytes', 'latest restore reads', 'duration'],
            summary.tables.map((t) => [
              t.table,
              t.status,
              t.generation === undefined ? '-' : String(t.generation),
              String(t.rows ?? 0),
              String(t.objects ?? 0),
              formatBytes(t.bytes ?? 0),
              t.before && t.after
                ? `${t.before.objects} objects ${formatBytes(t.before.bytes)} -> ${t.after.objects} ${formatBytes(t.after.bytes)}`
                : '-',
              `${(t.durationMs / 1000).toFixed(1)}s`,
            ]),
          ),
        );
        for (const t of summary.tables) {
          if (t.removed) ctx.stdout(`${t.table}: removed ${t.removed} object(s) of an unfinished compaction\n`);
          if (t.error) ctx.stdout(`${t.table}: ${t.error}\n`);
        }
      }
      setExit(tablesExitCode(summary.tables));
    });
}

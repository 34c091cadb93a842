import { Command } from 'commander';
import { DEFAULTS, MAX_PARALLEL } from '../defaults.js';
import { testHook } from './test-hook.js';
import { durationMs, wholeNumber } from './parse.js';
import { joinFlags } from './backup.js';
import { addMemoryFlags, memoryOptions, type MemoryFlags } from './memory-flags.js';
import type { CliContext } from './context.js';

export function serveCommand(ctx: CliContext): Command {
  return addMemoryFlags(new Command('serve'))
    .description('run a strategy on its schedule: (cron), with /healthz and /metrics (Prometheus) over HTTP')
    .argument('<strategy.yaml>', 'the strategy file; it needs a schedule: line')
    .option('--listen <host:port>', 'where /healthz and /metrics are served', DEFAULTS.serve.listen)
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
    .option('--run-now', 'also run once at start (with --join, a run of this replica alone)')
    .option(
      '--join [prefix]',
      'share each scheduled run with every replica of the strategy (same state store): the run of a tick is keyed by its time (prefix default serve)',
    )
    .option(
      '--lease <duration>',
      'with --join: how long a claimed table stays its worker’s without a heartbeat',
      durationMs,
    )
    .option('--worker-id <id>', 'with --join: what status shows as this replica (default host:pid)')
    .addHelpText(
      'after',
      `
Example (strategy file with schedule: "0 2 * * *"):
  tablevault serve strategies/nightly-incremental.yaml --listen 0.0.0.0:9464

Never two runs of the strategy at once (a run still going when the next is due skips it).
SIGTERM/SIGINT: the run in flight stops at its next batch (committed objects and watermarks stand,
uploads in progress are aborted), then tablevault exits 0; a second signal exits at once.`,
    )
    .action(
      async (
        file: string,
        f: MemoryFlags & {
          listen: string;
          state?: string;
          parallel: number;
          runNow?: boolean;
          join?: string | true;
          lease?: number;
          workerId?: string;
        },
      ) => {
        const { serve } = await import('../serve/serve.js');
        await serve(
          {
            strategy: file,
            listen: f.listen,
            state: f.state,
            parallel: f.parallel,
            runNow: f.runNow,
            ...(f.join !== undefined || f.lease !== undefined || f.workerId !== undefined
              ? { join: joinFlags(f) }
              : {}),
            memory: memoryOptions(f),
            hook: testHook(),
          },
          { logger: ctx.logger(), signal: ctx.stopSignal() },
        );
      },
    );
}

import { Command } from 'commander';
import { DEFAULTS, MAX_PARALLEL } from '../defaults.js';
import { testHook } from './test-hook.js';
import { wholeNumber } from './parse.js';
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
    .option('--run-now', 'also run once at start')
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
      async (file: string, f: MemoryFlags & { listen: string; state?: string; parallel: number; runNow?: boolean }) => {
        const { serve } = await import('../serve/serve.js');
        await serve(
          {
            strategy: file,
            listen: f.listen,
            state: f.state,
            parallel: f.parallel,
            runNow: f.runNow,
            memory: memoryOptions(f),
            hook: testHook(),
          },
          { logger: ctx.logger(), signal: ctx.stopSignal() },
        );
      },
    );
}

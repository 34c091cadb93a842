import { createLogger, type Logger } from '../log.js';
import type { ProgressSink } from '../progress.js';
import { withProgress } from './progress.js';

/** What a subcommand needs from the process, so tests and the demo can run commands in-process. */
export interface CliContext {
  logger(): Logger;
  stdout(text: string): void;
  /**
   * For commands that stop cleanly: the first SIGTERM/SIGINT fires this signal (the command
   * finishes or abandons its batch and returns); a second one exits at once. Commands that never
   * ask keep Node's default (exit on the first signal).
   */
  stopSignal(): AbortSignal;
  /** Runs `f` with a live progress line on stderr (only on a terminal, and not with --quiet). */
  withProgress<T>(label: string, f: (sink: ProgressSink | undefined) => Promise<T>): Promise<T>;
}

export function processContext(opts: { logLevel?: string; quiet?: boolean }): CliContext {
  let logger: Logger | undefined;
  let controller: AbortController | undefined;
  const get = () => (logger ??= createLogger({ level: opts.logLevel }));
  return {
    logger: get,
    stdout: (text) => {
      process.stdout.write(text);
    },
    withProgress: (label, f) => withProgress(label, opts.quiet, f),
    stopSignal: () => {
      if (!controller) {
        const c = new AbortController();
        controller = c;
        const onSignal = (sig: NodeJS.Signals) => {
          if (!c.signal.aborted) {
            get().warn(
              { signal: sig },
              'stopping: finishing or abandoning the current batch (send the signal again to exit at once)',
            );
            c.abort();
          } else {
            process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
          }
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      }
      return controller.signal;
    },
  };
}

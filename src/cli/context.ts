import { createLogger, type Logger } from '../log.js';

/** What a subcommand needs from the process, so tests and the demo can run commands in-process. */
export interface CliContext {
  logger(): Logger;
  stdout(text: string): void;
}

export function processContext(opts: { logLevel?: string }): CliContext {
  let logger: Logger | undefined;
  return {
    logger: () => (logger ??= createLogger({ level: opts.logLevel })),
    stdout: (text) => { process.stdout.write(text); },
  };
}

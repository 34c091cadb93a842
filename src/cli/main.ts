/** The `tablevault` command line: its commands, exit codes and one-line errors (loaded by the bin, ../cli.ts). */
import { Command, CommanderError, Option } from 'commander';
import { backupCommand, migrateCommand, statusCommand } from './backup.js';
import { compactCommand } from './compact.js';
import { expireCommand } from './expire.js';
import { exportCommand } from './export.js';
import { syncCommand } from './sync.js';
import { restoreCommand } from './restore.js';
import { verifyCommand } from './verify.js';
import { serveCommand } from './serve.js';
import { processContext } from './context.js';
import { errorMessage, isTablevaultError } from '../errors.js';
import { quietKnownWarnings } from '../process-setup.js';
import { redactText } from '../redact.js';
import { VERSION } from '../version.js';

/**
 * Exit codes: 0 success (or a clean stop on SIGTERM), 1 runtime failure, 2 bad input or
 * configuration, 3 partial (some tables of a backup failed, others were done).
 * Errors are one line on stderr, without a stack (set TABLEVAULT_DEBUG=1 for the stack).
 */
async function main(argv: string[]): Promise<number> {
  const program = new Command('tablevault')
    .description('Streaming PostgreSQL/MySQL table backups to Parquet in S3')
    .version(VERSION)
    .addOption(
      new Option('--log-level <level>', 'log level on stderr')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default(process.env.TABLEVAULT_LOG_LEVEL ?? 'info')
        .env('TABLEVAULT_LOG_LEVEL'),
    )
    .option('--quiet', 'no live progress line on stderr (it is shown only when stderr is a terminal)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const ctx = processContext({
    get logLevel() {
      return program.opts<{ logLevel: string }>().logLevel;
    },
    get quiet() {
      return program.opts<{ quiet?: boolean }>().quiet;
    },
  });
  let exitCode = 0;
  program.addCommand(
    exportCommand(ctx, (c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(
    backupCommand(ctx, (c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(statusCommand(ctx).exitOverride());
  program.addCommand(migrateCommand(ctx).exitOverride());
  program.addCommand(
    syncCommand(ctx, (c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(
    restoreCommand(ctx, (c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(
    verifyCommand(ctx, (c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(
    compactCommand(ctx, (c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(
    expireCommand(ctx, (c) => {
      exitCode = c;
    }).exitOverride(),
  );
  program.addCommand(serveCommand(ctx).exitOverride());
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
        return 0;
      return 2; // commander has already printed what was wrong with the command line
    }
    if (isTablevaultError(e)) {
      process.stderr.write(`tablevault: ${redactText(e.message)}\n`);
      if (process.env.TABLEVAULT_DEBUG) process.stderr.write(`${redactText(String(e.stack))}\n`);
      return e.exitCode;
    }
    process.stderr.write(`tablevault: ${redactText(errorMessage(e))}\n`);
    if (process.env.TABLEVAULT_DEBUG && e instanceof Error) process.stderr.write(`${redactText(String(e.stack))}\n`);
    return 1;
  }
}

quietKnownWarnings();

// `tablevault … | head` closes stdout early: that is not an error
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  else throw e;
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`tablevault: ${redactText(errorMessage(e))}\n`);
    process.exitCode = 1;
  },
);

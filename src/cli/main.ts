/** The `tablevault` command line: its commands, exit codes and one-line errors (loaded by the bin, ../cli.ts). */
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { errorMessage, isTablevaultError } from '../errors.js';
import { quietKnownWarnings } from '../process-setup.js';
import { redactText } from '../redact.js';

/**
 * Exit codes: 0 success (or a clean stop on SIGTERM), 1 runtime failure, 2 bad input or
 * configuration, 3 partial (some tables of a backup failed, others were done).
 * Errors are one line on stderr, without a stack (set TABLEVAULT_DEBUG=1 for the stack).
 */
async function main(argv: string[]): Promise<number> {
  const { program, exitCode } = buildProgram();
  try {
    await program.parseAsync(argv);
    return exitCode();
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

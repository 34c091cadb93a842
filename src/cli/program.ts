import { Command, Option } from 'commander';
import { backupCommand, migrateCommand, statusCommand } from './backup.js';
import { compactCommand } from './compact.js';
import { expireCommand } from './expire.js';
import { exportCommand } from './export.js';
import { syncCommand } from './sync.js';
import { restoreCommand } from './restore.js';
import { verifyCommand } from './verify.js';
import { serveCommand } from './serve.js';
import { processContext } from './context.js';
import { VERSION } from '../version.js';

/**
 * The `tablevault` program, every command on it, without parsing anything: main.ts runs it, and
 * tests read its commands and flags (test/unit/deploy-manifests.test.ts checks the deploy examples
 * against them). `exitCode` is what the command that ran asked for.
 */
export function buildProgram(): { program: Command; exitCode: () => number } {
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
  return { program, exitCode: () => exitCode };
}

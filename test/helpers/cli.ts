import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (`npm test` builds first) as a child process, the way a user does.
 * AWS_* variables are not inherited: each test passes the S3 environment it means to use.
 */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** runCli, with the child process at hand (to signal it while it runs). */
export function startCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...base, TABLEVAULT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** The JSON summary printed by `--json`; fails the test with stderr when the run failed. */
export function jsonSummary<T = Record<string, unknown>>(r: CliResult): T {
  if (r.code !== 0) throw new Error(`tablevault exited ${r.code}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

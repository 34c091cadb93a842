/**
 * Every error tablevault raises on purpose. `exitCode` 2 means the user's input or
 * configuration is wrong (fix it and rerun); 1 means the run failed at runtime.
 * The message always says what to do; the CLI prints it without a stack.
 */
export class TablevaultError extends Error {
  readonly code: string;
  readonly exitCode: 1 | 2;
  constructor(code: string, message: string, opts: { exitCode?: 1 | 2; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TablevaultError';
    this.code = code;
    this.exitCode = opts.exitCode ?? 2;
  }
}

/** Bad input or configuration: exit code 2. */
export function inputError(code: string, message: string, cause?: unknown): TablevaultError {
  return new TablevaultError(code, message, { exitCode: 2, cause });
}

/** A failure while running (network, server, disk): exit code 1. */
export function runtimeError(code: string, message: string, cause?: unknown): TablevaultError {
  return new TablevaultError(code, message, { exitCode: 1, cause });
}

export function isTablevaultError(e: unknown): e is TablevaultError {
  return e instanceof TablevaultError;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

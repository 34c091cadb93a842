import { isTablevaultError } from '../errors.js';

export function errorName(e: unknown): string {
  return (e as { name?: string; Code?: string }).name ?? (e as { Code?: string }).Code ?? '';
}

export function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** The store does not do this request (s3rver answers UploadPartCopy so; some stores CopyObject across buckets). */
export function isNotImplemented(e: unknown): boolean {
  return errorName(e) === 'NotImplemented' || httpStatus(e) === 501;
}

export function isPreconditionFailed(e: unknown): boolean {
  return errorName(e) === 'PreconditionFailed' || httpStatus(e) === 412;
}

/** Errors a streamed copy is not attempted again for: the source changed (412), or bad input (exit code 2). */
export function notRetried(e: unknown): boolean {
  return isPreconditionFailed(e) || (isTablevaultError(e) && e.exitCode === 2);
}

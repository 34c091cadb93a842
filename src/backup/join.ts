import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { inputError } from '../errors.js';
import type { TasksRow } from '../state/db.js';
import type { TableResult } from './run.js';
import { emptyResult } from './table-run.js';

/**
 * `backup --join [key]`: every process given the same key (and destination) works one run.
 * Outside an explicit key, a pod of a Kubernetes Indexed Job is named `<job>-<index>`, so the
 * job's name is the key every pod of that job derives; TABLEVAULT_RUN_KEY is the fallback.
 */
export interface JoinOptions {
  /** The run's key; undefined: derived (see joinKey). */
  key?: string;
  /** How long a claimed table is held without a heartbeat before another worker may take it (ms). Default 60 s. */
  leaseMs?: number;
  /** Return once the only tables left are held by live workers, instead of waiting to take over one whose worker dies. */
  exitWhenIdle?: boolean;
  /** What status shows as the holder of a table (default host:pid). */
  workerId?: string;
}

export const DEFAULT_LEASE_MS = 60_000;
/** A lease under this is renewed more often than a state store should be asked to (a heartbeat per third). */
export const MIN_LEASE_MS = 1_000;

const KEY = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}$/;

/** The run key a joining process uses: given, or an Indexed Job's name, or TABLEVAULT_RUN_KEY; exit 2 when there is none. */
export function joinKey(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const index = env.JOB_COMPLETION_INDEX;
  const host = env.HOSTNAME ?? '';
  const fromJob = index !== undefined && host.endsWith(`-${index}`) ? host.slice(0, -index.length - 1) : undefined;
  const key = given ?? (fromJob || undefined) ?? (env.TABLEVAULT_RUN_KEY || undefined);
  if (key === undefined)
    throw inputError(
      'JOIN_KEY',
      '--join: no run key: give one (--join nightly-2026-12-02), or set TABLEVAULT_RUN_KEY, or run in a Kubernetes Indexed Job (its pods derive the job name)',
    );
  if (!KEY.test(key))
    throw inputError(
      'JOIN_KEY',
      `--join ${JSON.stringify(key)}: a run key is 1-200 letters, digits and . _ : @ / + - (starting with a letter or digit)`,
    );
  return key;
}

/** The plan's key in the state store: the run key, and the destination it backs up to (two strategies may share a key). */
export function joinPlanKey(key: string, destination: string): string {
  return `${key}@${createHash('sha256').update(destination).digest('hex').slice(0, 12)}`;
}

export function workerIdentity(id?: string): { id: string; host: string } {
  const host = hostname();
  return { id: id ?? `${host}:${process.pid}`, host };
}

/** The lease a `--lease` gives, in ms; exit 2 below MIN_LEASE_MS. */
export function leaseMs(ms: number | undefined): number {
  if (ms === undefined) return DEFAULT_LEASE_MS;
  if (!Number.isFinite(ms) || ms < MIN_LEASE_MS)
    throw inputError('LEASE', `--lease: at least ${MIN_LEASE_MS / 1000}s (a heartbeat renews it every third of it)`);
  return Math.round(ms);
}

/** A table of a shared run as its task's row says: its result once done, or who holds it. */
export function taskTableResult(row: TasksRow, base: Pick<TableResult, 'strategy'>, stopped: boolean): TableResult {
  const empty = emptyResult(row.name, base.strategy, 'busy');
  const result = row.result ? (JSON.parse(row.result) as Partial<TableResult> & { error?: string }) : undefined;
  if (row.status === 'done' && result?.table) return result as TableResult;
  if (row.status === 'failed')
    return {
      ...empty,
      status: 'failed',
      error: `failed after ${row.attempts} attempt(s): ${result?.error ?? 'unknown error'}`,
    };
  if (row.status === 'claimed')
    return {
      ...empty,
      warnings: [`held by worker ${row.owner ?? '?'} on ${row.host ?? '?'} (attempt ${row.attempts})`],
    };
  return stopped
    ? { ...empty, status: 'stopped', warnings: ['not started: stopped by a signal; the run’s other workers take it'] }
    : { ...empty, warnings: ['waiting for a worker'] };
}

/** A table's task (not one of its chunks'). */
export const isTableTask = (row: TasksRow): boolean => !('chunk' in (JSON.parse(row.spec) as object));

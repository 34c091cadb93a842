import type { ManifestState, RetentionBoundary } from '../state/repository.js';

/**
 * Retention, the plan (pure): which runs of a table a target keeps, and from where its manifest
 * lists objects so that every kept run restores exactly as before.
 *
 * A kept run's restore reads the newest generation at or before its end and the files after that
 * generation up to its end (filesThrough). Runs are kept from the oldest kept one, O, to the
 * latest; their generations are O's or newer, so nothing before O's generation is read by any of
 * them: those files (and older generations) are no longer listed, and their objects are deleted.
 * Without a generation at or before O, every file is still read (each run's restore starts at the
 * first), so the runs before O are expired (as-of refused) while their objects stay: a run is
 * expired only together with what it depends on.
 */

/** `retention:` of a table or a mirror; absent keys keep everything they would decide. */
export interface RetentionPolicy {
  /** The newest N runs are kept. */
  keepRuns?: number;
  /** Runs younger than D days are kept. */
  keepDays?: number;
}

/** A table's run that committed objects: an as-of point. */
export interface RunPoint {
  runId: string;
  backupRunId?: string;
  /** Its last object's sequence number. */
  lastSeq: number;
  /** When its last object was committed. */
  at: string;
}

const DAY_MS = 86_400_000;

/**
 * The runs a target's manifest still offers as as-of points, oldest first: the recorded oldest
 * kept run (its files may be no longer listed, a generation standing for them) and every run of
 * the listed files after it; runs before it whose files are listed (a kept run reads them) are expired.
 */
export function runPoints(ms: Pick<ManifestState, 'files' | 'retention'>): RunPoint[] {
  const byRun = new Map<string, RunPoint>();
  for (const f of ms.files) {
    byRun.delete(f.run_id); // a run's point is its last file: re-inserted at the end
    byRun.set(f.run_id, {
      runId: f.run_id,
      ...(f.backup_run ? { backupRunId: f.backup_run } : {}),
      lastSeq: f.seq,
      at: f.created_at,
    });
  }
  const points = [...byRun.values()].sort((a, b) => a.lastSeq - b.lastSeq);
  const r = ms.retention;
  if (!r) return points;
  const after = points.filter((p) => p.lastSeq >= r.kept_last_seq);
  if (after[0]?.runId === r.kept_run) return after;
  const kept = {
    runId: r.kept_run,
    ...(r.kept_backup_run ? { backupRunId: r.kept_backup_run } : {}),
    lastSeq: r.kept_last_seq,
    at: r.kept_at,
  };
  return [kept, ...after.filter((p) => p.runId !== r.kept_run)];
}

/**
 * The index in `points` of the oldest run the policy keeps: the newest `keepRuns`, and those
 * younger than `keepDays` (a run either keeps is kept); the latest run always. No keys: the first.
 */
export function oldestKept(points: RunPoint[], policy: RetentionPolicy, now: Date): number {
  if (!points.length) return 0;
  const latest = points.length - 1;
  const byCount = policy.keepRuns === undefined ? undefined : Math.max(0, points.length - policy.keepRuns);
  let byAge: number | undefined;
  if (policy.keepDays !== undefined) {
    const cutoff = now.getTime() - policy.keepDays * DAY_MS;
    const i = points.findIndex((p) => Date.parse(p.at) >= cutoff);
    byAge = i < 0 ? latest : i;
  }
  const picks = [byCount, byAge].filter((x): x is number => x !== undefined);
  return picks.length ? Math.min(latest, ...picks) : 0;
}

/**
 * The boundary that keeps `points[i]` and the runs after it: the newest listed generation at or
 * before its end stands for the files before it (which are no longer listed); without one,
 * what is listed stays as it was.
 */
export function boundaryAt(ms: Pick<ManifestState, 'generations' | 'retention'>, p: RunPoint): RetentionBoundary {
  const g = ms.generations.filter((x) => x.through_seq <= p.lastSeq + 1).at(-1);
  return {
    keptRun: p.runId,
    ...(p.backupRunId ? { keptBackupRun: p.backupRunId } : {}),
    keptAt: p.at,
    keptLastSeq: p.lastSeq,
    keptSeq: g ? g.through_seq : (ms.retention?.kept_seq ?? 0),
    keptGen: g ? g.generation : (ms.retention?.kept_gen ?? 0),
  };
}

/** One target's expire, decided: the runs, the oldest kept (`points[i]`), the boundary, what to record and delete. */
export interface TargetPlan {
  points: RunPoint[];
  i: number;
  boundary: RetentionBoundary;
  /** The boundary is to be recorded: it moved, and something is expired (now or before). */
  record: boolean;
  /** A boundary was recorded before (the target's manifest carries one). */
  recorded: boolean;
  /** The files (seq) and generations (id) from `from` up to `to` are no longer listed and still to delete. */
  sweep: { from: { seq: number; gen: number }; to: { seq: number; gen: number } };
}

/**
 * A target's expire: the oldest run its policy keeps, no later than `atMostSeq` (a mirror keeps at
 * least what the destination keeps), moved later while `fits` says the target lacks what that
 * boundary lists (a mirror holds only what it synced). Undefined: no run fits (or there are none).
 */
export function planTarget(
  ms: Pick<ManifestState, 'files' | 'generations' | 'retention'>,
  policy: RetentionPolicy,
  now: Date,
  opts: { atMostSeq?: number; fits?: (b: RetentionBoundary) => boolean } = {},
): TargetPlan | undefined {
  const points = runPoints(ms);
  let i = oldestKept(points, policy, now);
  if (opts.atMostSeq !== undefined) while (i > 0 && points[i]!.lastSeq > opts.atMostSeq) i--;
  let b = points[i] && boundaryAt(ms, points[i]!);
  while (b && opts.fits && !opts.fits(b)) b = points[++i] && boundaryAt(ms, points[i]!);
  if (!b) return undefined;
  const r = ms.retention;
  const record =
    (r !== undefined || i > 0) &&
    (!r || r.kept_last_seq !== b.keptLastSeq || r.kept_seq !== b.keptSeq || r.kept_gen !== b.keptGen);
  const from = { seq: r?.swept_seq ?? 0, gen: r?.swept_gen ?? 0 };
  const to = record ? { seq: b.keptSeq, gen: b.keptGen } : r ? { seq: r.kept_seq, gen: r.kept_gen } : from;
  return { points, i, boundary: b, record, recorded: r !== undefined, sweep: { from, to } };
}

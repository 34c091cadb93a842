import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manifestInput } from '../../src/backup/incremental-manifest.js';
import type { TablePlan } from '../../src/backup/incremental-plan.js';
import {
  oldestKept,
  planTarget,
  runPoints,
  type RetentionPolicy,
  type RunPoint,
} from '../../src/lifecycle/retention.js';
import { incrementalManifest } from '../../src/manifest/write.js';
import { backupView, expiredRun, filesThrough, runEnd, type BackupManifest } from '../../src/manifest/view.js';
import type { FilesRow, GenerationsRow, RetentionRow } from '../../src/state/db.js';
import { listed, type ManifestState } from '../../src/state/table-reads.js';

/**
 * Retention's plan on simulated histories: runs of one or two objects an hour apart, a
 * compaction after some of them, and an expire after every run (as backup does). After each
 * step, every run the destination still offers restores from exactly the objects it read before
 * any expire, no object such a run reads was deleted, and every other run is refused as expired.
 */

const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (h: number) => new Date(T0 + h * HOUR).toISOString();

const plan = {
  table: { engine: 'postgres', schema: 's', name: 't', columns: [], primaryKey: ['id'] },
  columns: [],
  keyColumns: ['at', 'id'],
  primaryKey: ['id'],
  tableKey: 'k',
  tablePrefix: 'p',
} as unknown as TablePlan;

interface Sim {
  files: FilesRow[];
  generations: GenerationsRow[];
  retention?: RetentionRow;
  deleted: Set<string>;
  runs: string[];
}

function file(seq: number, run: number): FilesRow {
  return {
    table_key: 'k',
    seq,
    object_key: `p/incr-${seq}`,
    rows: 1,
    bytes: 1,
    sha256: '',
    key_from: null,
    key_to: '["1"]',
    run_id: `run-${run}`,
    backup_run: `b-${run}`,
    created_at: at(run),
    schema_version: 1,
    kind: null,
  };
}

function state(sim: Sim, retention = sim.retention): ManifestState {
  const table = { table_key: 'k', rows: 0, schema_version: 1, watermark: null } as unknown as ManifestState['table'];
  return listed({ table, files: sim.files, schemas: [], generations: sim.generations }, retention);
}

const view = (ms: ManifestState): BackupManifest => backupView(incrementalManifest('p', manifestInput(plan, ms)));
const reads = (m: BackupManifest, run: string) => filesThrough(m, runEnd(m, run)).files.map((f) => f.name);

/** Plays `history` (objects per run, compacted after it), expiring after each run; checks after each step. */
function play(history: Array<{ objects: number; compact: boolean }>, policy: RetentionPolicy) {
  const sim: Sim = { files: [], generations: [], deleted: new Set(), runs: [] };
  let seq = 0;
  history.forEach((h, run) => {
    for (let k = 0; k < h.objects; k++) sim.files.push(file(seq++, run));
    sim.runs.push(`run-${run}`);
    if (h.compact) {
      const id = sim.generations.length + 1;
      sim.generations.push({
        table_key: 'k',
        generation: id,
        through_seq: seq,
        run_id: `run-${run}`,
        backup_run: `b-${run}`,
        schema_version: 1,
        rows: 1,
        bytes: 1,
        files_json: JSON.stringify([{ key: `p/gen-${id}/part-0`, rows: 1, bytes: 1, sha256: '', schemaVersion: 1 }]),
        status: 'done',
        created_at: at(run),
      });
    }
    const full = view(state(sim, undefined));
    const p = planTarget(state(sim), policy, new Date(T0 + run * HOUR + 60_000))!;
    const { seq: s0, gen: g0 } = p.sweep.from;
    const { seq: s1, gen: g1 } = p.sweep.to;
    for (const f of sim.files) if (f.seq >= s0 && f.seq < s1) sim.deleted.add(`incr-${f.seq}`);
    for (const g of sim.generations)
      if (g.generation >= g0 && g.generation < g1) sim.deleted.add(`gen-${g.generation}/part-0`);
    const b = p.boundary;
    if (p.record || sim.retention)
      sim.retention = {
        table_key: 'k',
        target: '',
        kept_run: p.record ? b.keptRun : sim.retention!.kept_run,
        kept_backup_run: (p.record ? b.keptBackupRun : sim.retention!.kept_backup_run) ?? null,
        kept_at: p.record ? b.keptAt : sim.retention!.kept_at,
        kept_last_seq: p.record ? b.keptLastSeq : sim.retention!.kept_last_seq,
        kept_seq: s1,
        kept_gen: g1,
        swept_seq: s1,
        swept_gen: g1,
        updated_at: '',
      };
    const now = view(state(sim));
    const kept = runPoints(state(sim)).map((x) => x.runId);
    for (const r of kept) {
      expect(reads(now, r)).toEqual(reads(full, r));
      expect(reads(now, r).filter((n) => sim.deleted.has(n))).toEqual([]);
      expect(expiredRun(now, r)).toBe(false);
    }
    for (const r of sim.runs.filter((x) => !kept.includes(x))) expect(expiredRun(now, r)).toBe(true);
    expect(kept.at(-1)).toBe(`run-${run}`);
    if (policy.keepRuns !== undefined) expect(kept.length).toBeGreaterThanOrEqual(Math.min(policy.keepRuns, run + 1));
  });
  return sim;
}

const history = fc.array(fc.record({ objects: fc.integer({ min: 1, max: 2 }), compact: fc.boolean() }), {
  minLength: 1,
  maxLength: 30,
});

describe('retention plan', () => {
  it('keeps every run it offers restoring from the objects it read before, for any history and keep_runs', () => {
    fc.assert(fc.property(history, fc.integer({ min: 1, max: 8 }), (h, keepRuns) => void play(h, { keepRuns })));
  });

  it('keeps every run it offers restoring as before with keep_days and keep_runs together', () => {
    fc.assert(
      fc.property(
        history,
        fc.integer({ min: 1, max: 5 }),
        fc.double({ min: 0.05, max: 0.5, noNaN: true }),
        (h, keepRuns, keepDays) => void play(h, { keepRuns, keepDays }),
      ),
    );
  });

  it('deletes the objects before the oldest kept run once a compaction stands for them', () => {
    const h = Array.from({ length: 20 }, (_, i) => ({ objects: 1, compact: i % 5 === 4 }));
    const sim = play(h, { keepRuns: 3 });
    // runs 17-19 kept: run 17 starts at the generation after run 14, so runs 0-14 and generations 1-2 are gone
    expect([...sim.deleted].filter((n) => n.startsWith('incr-')).length).toBe(15);
    expect([...sim.deleted].filter((n) => n.startsWith('gen-')).sort()).toEqual(['gen-1/part-0', 'gen-2/part-0']);
  });

  it('deletes nothing without a compaction, though it expires runs', () => {
    const sim = play(
      Array.from({ length: 10 }, () => ({ objects: 2, compact: false })),
      { keepRuns: 2 },
    );
    expect(sim.deleted.size).toBe(0);
    expect(sim.retention?.kept_run).toBe('run-8');
  });
});

describe('oldestKept', () => {
  const points: RunPoint[] = Array.from({ length: 10 }, (_, i) => ({ runId: `r${i}`, lastSeq: i, at: at(i * 24) }));

  it('keeps the newest keep_runs runs', () => {
    expect(oldestKept(points, { keepRuns: 3 }, new Date(T0 + 1000 * HOUR))).toBe(7);
  });

  it('keeps the runs younger than keep_days', () => {
    expect(oldestKept(points, { keepDays: 2.5 }, new Date(T0 + 9 * 24 * HOUR))).toBe(7);
  });

  it('keeps a run either rule keeps', () => {
    expect(oldestKept(points, { keepRuns: 1, keepDays: 4.5 }, new Date(T0 + 9 * 24 * HOUR))).toBe(5);
  });

  it('always keeps the latest run', () => {
    expect(oldestKept(points, { keepDays: 1 }, new Date(T0 + 100 * 24 * HOUR))).toBe(9);
  });
});

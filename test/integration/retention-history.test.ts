import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSummary, runCli } from '../helpers/cli.js';
import {
  dropHistory,
  ENGINES,
  KEEP_RUNS,
  lib,
  OLDEST_CHECKS,
  Played,
  RUNS,
  type Row,
  type RunRecord,
} from '../helpers/history-play.js';
import { s3EnvFor, s3Targets } from '../helpers/s3.js';

/**
 * Issue 19's simulation: 40 nightly runs of a seeded history (inserts, updates, deletes, keys
 * deleted and inserted again, one added column) with compaction every 10 runs, retention of the
 * 12 newest runs and a mirror in a second bucket (test/helpers/history-play.ts plays it). Every
 * kept run restores --as-of to the source as it was at that run, the latest state and verify are
 * exact, after every run each target holds every object a kept run reads and none of the expired
 * runs' others, and an expired run is refused naming the oldest kept one. What the CLI alone
 * decides (exit codes, verify and expire --json) is asked of the CLI.
 */

const target = s3Targets()[0]!;
const env = s3EnvFor(target);
const savedEnv = { ...process.env };
const histories = new Map<string, Promise<Played>>();

// Both engines' histories play at once: much of a run is waiting on its database and on s3rver,
// so the two overlap on two cores (the file took 94-96 s so, 107-133 s one engine after the
// other, in one sitting on a box at load 5-7; 81 s one after the other at load ~2).
beforeAll(async () => {
  Object.assign(process.env, env);
  const library = await lib();
  for (const e of ENGINES) {
    const played = new Played(e, library, target).play();
    played.catch(() => undefined); // its describe's beforeAll reports it
    histories.set(e.name, played);
  }
});

afterAll(() => {
  process.env = savedEnv;
});

/**
 * The objects restore --as-of run `r` (1-based) reads, by the restore rule: the parts of the
 * newest generation written by run r or before, then the runs' own objects after it up to r.
 */
function readBy(records: RunRecord[], r: number): Set<string> {
  let base = 0;
  for (let i = 1; i <= r; i++) if (records[i - 1]!.generation.length) base = i;
  const out = new Set(base ? records[base - 1]!.generation : []);
  for (let i = base + 1; i <= r; i++) for (const k of records[i - 1]!.own) out.add(k);
  return out;
}

/**
 * After run `r`: what the kept runs read, and what the expired runs wrote that none of them reads
 * (a kept run's own objects that its generation stands for may go or stay).
 */
function expected(records: RunRecord[], r: number): { needed: Set<string>; gone: Set<string> } {
  const first = Math.max(1, r - KEEP_RUNS + 1);
  const needed = new Set<string>();
  for (let k = first; k <= r; k++) for (const key of readBy(records, k)) needed.add(key);
  const gone = new Set<string>();
  for (let k = 1; k < first; k++)
    for (const key of [...records[k - 1]!.generation, ...records[k - 1]!.own]) if (!needed.has(key)) gone.add(key);
  return { needed, gone };
}

/** Restore loads at the latest schema: a run before a column was added restores it NULL (README, schema changes). */
const padded = (rows: Row[], columns: string[]): Row[] =>
  rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null])));

describe.each(ENGINES)('retention over 40 nightly runs ($name)', (e) => {
  let p: Played;
  let records: RunRecord[];
  let primary: string;
  let mirror: string;
  let file: string;
  const restoredRows = (bucket: string, asOf?: string) => p.restoredRows(bucket, asOf);

  beforeAll(async () => {
    p = await histories.get(e.name)!;
    ({ records, primary, mirror, file } = p);
  }, 240_000);

  afterAll(() => dropHistory(e));

  const kept = () => records.slice(RUNS - KEEP_RUNS);
  const latestColumns = () => Object.keys(records.at(-1)!.source[0]!);

  it('compacts after runs 10, 20, 30 and 40', () => {
    const at = records.flatMap((r, i) => (r.compacted ? [[i + 1, r.compacted]] : []));
    expect(at).toEqual([
      [10, 1],
      [20, 2],
      [30, 3],
      [40, 4],
    ]);
  });

  it('restores every kept run --as-of equal to the source as it was at that run', async () => {
    for (const r of kept())
      expect(await restoredRows(primary, r.runId), `--as-of ${r.runId}`).toEqual(padded(r.source, latestColumns()));
  }, 120_000);

  it('restored the oldest kept run --as-of, right after runs 21, 22, 30, 31 and 32, equal to its source', () => {
    const checked = records.flatMap((r, i) => (r.oldest ? [{ after: i + 1, ...r.oldest }] : []));
    expect(checked.map((c) => [c.after, c.run])).toEqual(OLDEST_CHECKS.map((k) => [k, k - KEEP_RUNS + 1]));
    for (const c of checked) {
      const columns = Object.keys(records[c.after - 1]!.source[0]!);
      expect(c.rows, `after run ${c.after}`).toEqual(padded(records[c.run - 1]!.source, columns));
    }
  });

  it('restores the latest state equal to the source, from the primary and from the mirror', async () => {
    const now = await p.rowsOf();
    expect(await restoredRows(primary)).toEqual(now);
    expect(await restoredRows(mirror)).toEqual(now);
  });

  it('verifies equal against the source', async () => {
    const v = jsonSummary<{ equal: boolean }>(await runCli(['verify', file, '--json'], env));
    expect(v.equal).toBe(true);
  });

  it('after every run, the primary holds every object a kept run reads', () => {
    for (const [i, r] of records.entries())
      expect(r.primary, `after run ${i + 1}`).toEqual(expect.arrayContaining([...expected(records, i + 1).needed]));
  });

  it('after every run, the primary holds none of the expired runs’ objects that no kept run reads', () => {
    for (const [i, r] of records.entries()) {
      const { gone } = expected(records, i + 1);
      expect(
        r.primary.filter((k) => gone.has(k)),
        `after run ${i + 1}`,
      ).toEqual([]);
    }
  });

  it('ends with generations 2, 3 and 4 and no object of runs 1 to 20', () => {
    const left = records.at(-1)!.primary;
    const generations = new Set(left.flatMap((k) => /\/gen-(\d+)\//.exec(k)?.[1] ?? []));
    expect([...generations].sort()).toEqual(['00002', '00003', '00004']);
    const early = records.slice(0, 20).flatMap((r) => r.own);
    expect(left.filter((k) => early.includes(k))).toEqual([]);
  });

  it('reports after each run what its expire deleted from both targets, and the oldest run kept', () => {
    const deleted = (before: string[], after: string[]) => before.filter((k) => !after.includes(k)).length;
    for (const [i, r] of records.entries()) {
      const before = records[i - 1] ?? { primary: [], mirror: [] };
      const objects = deleted(before.primary, r.primary) + deleted(before.mirror, r.mirror);
      expect(r.expired?.objects, `run ${i + 1}`).toBe(objects);
      expect(
        r.warnings.filter((w) => w.startsWith('retention')),
        `run ${i + 1}`,
      ).toEqual([]);
    }
    expect(records.at(-1)!.expired?.oldestKept?.runId).toBe(kept()[0]!.runId);
    expect(records.at(-1)!.expired?.runsKept).toBe(KEEP_RUNS);
  });

  it('after every run, the mirror holds the same objects as the primary', () => {
    for (const [i, r] of records.entries()) expect(r.mirror, `after run ${i + 1}`).toEqual(r.primary);
  });

  it('restores the oldest kept run --as-of from the mirror equal to the source as it was then', async () => {
    const r = kept()[0]!;
    expect(await restoredRows(mirror, r.runId)).toEqual(padded(r.source, latestColumns()));
  });

  it('refuses --as-of an expired run with exit 2, naming the oldest kept run', async () => {
    const oldest = kept()[0]!.runId;
    const newestExpired = records[RUNS - KEEP_RUNS - 1]!.runId;
    for (const [bucket, asOf] of [
      [primary, records[0]!.runId],
      [primary, newestExpired],
      [mirror, newestExpired],
    ] as const) {
      const r = await runCli(
        ['restore', p.from(bucket), '--target', e.url, '--table', p.restoredTable, '--create', '--as-of', asOf],
        env,
      );
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(oldest);
    }
  });

  it('finds nothing more to expire afterwards, the 29th run the oldest kept on both targets', async () => {
    type Target = { oldestKept: { runId: string }; runsKept: number; objects: number };
    type Expire = { tables: Array<{ status: string; targets: Target[] }> };
    const s = jsonSummary<Expire>(await runCli(['expire', file, '--dry-run', '--json'], env)).tables[0]!;
    expect(s.status).toBe('current');
    expect(s.targets).toHaveLength(2);
    for (const t of s.targets) {
      expect(t.oldestKept.runId).toBe(kept()[0]!.runId);
      expect(t.runsKept).toBe(KEEP_RUNS);
      expect(t.objects).toBe(0);
    }
  });
});

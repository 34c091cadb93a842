/**
 * A seeded history of nightly changes to one table, as SQL both PostgreSQL and MariaDB run
 * unchanged (the retention simulation of issue 19): run 1 inserts the first rows, each later run
 * updates, inserts and deletes some, deletes a key and inserts it again (in the same night, and
 * nights later), updates a key and deletes it before the next run, and one run adds a column.
 * The same seed gives the same statements; the source's rows after each run are what a test
 * compares restores with, so the generator only tracks which keys exist.
 *
 * Table: (id int PRIMARY KEY, v varchar(40), n int, updated_at timestamp(6)/DATETIME(6) NOT NULL),
 * plus `note varchar(20)` from run `addColumnAt` on. Every row a run writes has a cursor later than
 * every row of the runs before it (run k's rows: 2025-01-01 plus k hours plus a millisecond per
 * row), and every run writes at least one row, so each run has an object and restore --as-of
 * takes its run id.
 */
export interface HistoryOptions {
  table: string;
  runs: number;
  seed: number;
  /** Rows run 1 inserts (ids 1..n). */
  initialRows: number;
  /** The run that adds the column `note` (before its other changes). */
  addColumnAt: number;
  /** Each run's updates, inserts and deletes times this (default 1: a few to a dozen of each). */
  scale?: number;
}

/** mulberry32: a small seeded PRNG, enough for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE = Date.UTC(2025, 0, 1);

/** A timestamp literal both engines read as timestamp(6)/DATETIME(6), without a zone. */
function at(run: number, tick: number): string {
  return `'${new Date(BASE + run * 3_600_000 + tick).toISOString().replace('T', ' ').replace('Z', '')}000'`;
}

/** Statements per run: `[i]` is run i + 1's (one string of `;`-separated statements). */
export function history(o: HistoryOptions): string[] {
  const rand = prng(o.seed);
  const int = (n: number) => Math.floor(rand() * n);
  const scale = o.scale ?? 1;
  const live: number[] = [];
  const deleted: number[] = [];
  let nextId = 1;
  const out: string[] = [];
  for (let run = 1; run <= o.runs; run++) {
    const hasNote = run >= o.addColumnAt;
    let tick = 0;
    const sql: string[] = [];
    const values = (id: number) => {
      const v = int(10) === 0 ? 'NULL' : `'r${run}-${id}-${int(1000)}'`;
      const n = int(10) === 0 ? 'NULL' : String(int(100_000) - 50_000);
      const note = hasNote ? `, ${int(3) === 0 ? 'NULL' : `'n${run}'`}` : '';
      return `(${id}, ${v}, ${n}, ${at(run, ++tick)}${note})`;
    };
    const cols = `id, v, n, updated_at${hasNote ? ', note' : ''}`;
    const insert = (ids: number[]) => {
      if (ids.length) sql.push(`INSERT INTO ${o.table} (${cols}) VALUES ${ids.map(values).join(', ')}`);
      live.push(...ids);
    };
    const update = (id: number) => {
      const note = hasNote && int(2) === 0 ? `, note = 'u${run}'` : '';
      sql.push(
        `UPDATE ${o.table} SET v = 'u${run}-${int(1000)}', n = ${int(1000)}${note}, updated_at = ${at(run, ++tick)} WHERE id = ${id}`,
      );
    };
    const remove = (ids: number[]) => {
      if (ids.length) sql.push(`DELETE FROM ${o.table} WHERE id IN (${ids.join(', ')})`);
      for (const id of ids) live.splice(live.indexOf(id), 1);
    };
    const pickLive = (n: number) => {
      const picked = new Set<number>();
      while (picked.size < Math.min(n, live.length)) picked.add(live[int(live.length)]!);
      return [...picked];
    };
    if (run === 1) {
      insert(Array.from({ length: o.initialRows }, () => nextId++));
      out.push(sql.join(';\n'));
      continue;
    }
    if (run === o.addColumnAt) {
      sql.push(`ALTER TABLE ${o.table} ADD COLUMN note varchar(20)`);
      for (const id of pickLive(15 * scale)) update(id);
    }
    for (const id of pickLive((3 + int(10)) * scale)) update(id);
    insert(Array.from({ length: (1 + int(6)) * scale }, () => nextId++));
    const gone = pickLive((int(4) + (run % 9 === 0 ? 12 : 0)) * scale);
    remove(gone);
    deleted.push(...gone);
    // deleted on an earlier night, back now with new values
    if (deleted.length > gone.length && int(2) === 0) {
      const back = deleted.splice(int(deleted.length - gone.length), 1);
      insert(back);
    }
    // deleted and inserted again in the same night: the backup sees only the new version
    if (run % 4 === 0) {
      const [id] = pickLive(1);
      remove([id!]);
      insert([id!]);
    }
    // updated, then deleted before the next run
    if (run % 5 === 0) {
      const [id] = pickLive(1);
      update(id!);
      remove([id!]);
      deleted.push(id!);
    }
    out.push(sql.join(';\n'));
  }
  return out;
}

import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../src/source/columns.js';
import type { Loader, LoadPlan } from '../../src/source/loader.js';
import { openLoader } from '../../src/source/mysql/loader.js';
import { MYSQL_URL, withMysql } from '../helpers/db.js';

/** The loader's own database, so nothing here meets another test file's tables. */
const DB = 'tv_loaddata';
const URL_ = (() => {
  const u = new URL(MYSQL_URL);
  u.pathname = `/${DB}`;
  return u.href;
})();

const sql = (text: string) => withMysql((c) => c.query(text));
async function rows(text: string): Promise<Array<Record<string, unknown>>> {
  return withMysql(async (c) => (await c.query(text))[0] as Array<Record<string, unknown>>);
}
const count = async (table: string) => Number((await rows(`SELECT COUNT(*) AS n FROM ${DB}.${table}`))[0]!.n);

const COLUMNS: ColumnSpec[] = [
  { name: 'id', dbType: 'int', nullable: false, kind: 'int32' },
  { name: 't', dbType: 'longtext', nullable: true, kind: 'string' },
  { name: 'b', dbType: 'longblob', nullable: true, kind: 'binary' },
];
const plan = (table: string, conflict: LoadPlan['conflict'] = 'insert', columns = COLUMNS): LoadPlan => ({
  table: { schema: DB, name: table },
  columns,
  conflict,
  primaryKey: ['id'],
});
type Row = [id: number, t: string | null, b: Buffer | null];
const batch = (rs: Row[]) => ({
  numRows: rs.length,
  cells: [
    (r: number) => String(rs[r]![0]),
    (r: number) => rs[r]![1],
    (r: number) => rs[r]![2]?.toString('hex') ?? null,
  ],
});
/** The table's rows as the loader was given them, by id. */
async function stored(table: string): Promise<Row[]> {
  const got = await rows(`SELECT id, t, HEX(b) AS b FROM ${DB}.${table} ORDER BY id`);
  return got.map((r) => [Number(r.id), r.t as string | null, r.b === null ? null : Buffer.from(String(r.b), 'hex')]);
}

function captureLogs() {
  const lines: string[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  return { logger, lines };
}

let loader: Loader;
beforeAll(async () => {
  await sql(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB} CHARACTER SET utf8mb4`);
  loader = await openLoader(URL_);
});
afterAll(async () => {
  await loader?.close();
  await sql(`DROP DATABASE IF EXISTS ${DB}`);
});
beforeEach(() =>
  sql(
    `DROP TABLE IF EXISTS ${DB}.t; CREATE TABLE ${DB}.t (id int PRIMARY KEY, t longtext, b longblob) CHARACTER SET utf8mb4`,
  ),
);

const EXAMPLES: Row[] = [
  [1, 'tab\there, newline\nthere, cr\r, backslash \\ and \\\\, NUL \0 inside', Buffer.from('\t\n\\\0N')],
  [2, '\\N', Buffer.from('\\N')],
  [3, 'N', Buffer.alloc(0)],
  [4, 'NULL', null],
  [5, '', Buffer.from([0x5c])],
  [6, null, null],
  [7, 'ends with a backslash \\', Buffer.from([0x0a])],
  [8, 'é ü ß 日本語 😀 👩‍👩‍👧 combining é, RTL שלום, \u001a \b', Buffer.from('😀')],
  [9, '\t', Buffer.from([0x09])],
];

describe('LOAD DATA LOCAL from memory into MariaDB', () => {
  it('tabs, newlines, backslashes, NUL bytes, \\N-looking strings, empty values and Unicode arrive unchanged', async () => {
    await loader.load(plan('t'), batch(EXAMPLES));
    expect(await stored('t')).toEqual(EXAMPLES);
  });

  it('a binary value of every byte value, and each byte as a value of its own, arrive unchanged', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const each: Row[] = Array.from({ length: 256 }, (_, i) => [i + 2, null, Buffer.from([i])]);
    await loader.load(plan('t'), batch([[1, all.toString('latin1'), all], ...each]));
    expect(await stored('t')).toEqual([[1, all.toString('latin1'), all], ...each]);
  });

  it('a value larger than max_allowed_packet (20 MB) arrives unchanged', async () => {
    const long = `${'a\tb\\c\n€'.repeat(2_500_000)}`;
    await loader.load(plan('t'), batch([[1, long, null]]));
    const [r] = await rows(`SELECT LENGTH(t) AS n, MD5(t) AS h FROM ${DB}.t`);
    expect([Number(r!.n), r!.h]).toEqual([Buffer.byteLength(long), createHash('md5').update(long).digest('hex')]);
  });

  it('60k rows (many chunks) arrive in order and complete', async () => {
    const many: Row[] = Array.from({ length: 60_000 }, (_, i) => [i, `row ${i}\t${'x'.repeat(i % 50)}`, null]);
    await loader.load(plan('t'), batch(many));
    expect(await stored('t')).toEqual(many);
  });

  it('any strings and bytes (fast-check) come back from the server as they went in', async () => {
    const value = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }).map((s) => s.replace(/[\ud800-\udfff]/g, '?')),
      fc
        .array(fc.constantFrom('\t', '\n', '\r', '\\', '\0', '\\N', 'N', ' ', 'é'), { maxLength: 10 })
        .map((a) => a.join('')),
    );
    const rowsArb = fc.uniqueArray(
      fc.tuple(
        fc.integer({ min: 0, max: 1e6 }),
        fc.option(value, { nil: null }),
        fc.option(fc.uint8Array(), { nil: null }),
      ),
      { selector: (r) => r[0], maxLength: 40 },
    );
    await fc.assert(
      fc.asyncProperty(rowsArb, async (rs) => {
        await sql(`TRUNCATE TABLE ${DB}.t`);
        const given: Row[] = rs.map(([id, t, b]) => [id, t, b === null ? null : Buffer.from(b)]);
        await loader.load(plan('t'), batch(given));
        expect(await stored('t')).toEqual([...given].sort((x, y) => x[0] - y[0]));
      }),
      { numRuns: 40 },
    );
  });
});

describe('LOAD DATA LOCAL is as strict as INSERT: a warning fails the batch and leaves none of it', () => {
  const failing = async (p: LoadPlan, rs: Row[]) => {
    await expect(loader.load(p, batch(rs))).rejects.toThrow(/warning/);
    return count(p.table.name);
  };

  it('a value too long for its column', async () => {
    await sql(`CREATE OR REPLACE TABLE ${DB}.v (id int PRIMARY KEY, t varchar(3), b blob)`);
    expect(
      await failing(plan('v'), [
        [1, 'abc', null],
        [2, 'abcd', null],
      ]),
    ).toBe(0);
  });

  it('a NULL in a NOT NULL column', async () => {
    await sql(`CREATE OR REPLACE TABLE ${DB}.v (id int PRIMARY KEY, t text NOT NULL, b blob)`);
    expect(
      await failing(plan('v'), [
        [1, 'a', null],
        [2, null, null],
      ]),
    ).toBe(0);
  });

  it('a duplicate key (mode insert)', async () => {
    expect(
      await failing(plan('t'), [
        [1, 'a', null],
        [1, 'b', null],
      ]),
    ).toBe(0);
  });

  it('a text that is not a number in a number column', async () => {
    await sql(`CREATE OR REPLACE TABLE ${DB}.v (id int PRIMARY KEY, t int, b blob)`);
    expect(await failing(plan('v'), [[1, '12x', null]])).toBe(0);
  });
});

describe('a value that throws while the rows stream', () => {
  it('fails the load with that error, leaves none of the batch, and the loader loads the next batch', async () => {
    const boom = new Error('value 40000 cannot be stored');
    const good = batch(Array.from({ length: 50_000 }, (_, i): Row => [i, `row ${i}`, null]));
    const bad = {
      ...good,
      cells: good.cells.map((c, i) =>
        i === 1
          ? (r: number) => {
              if (r === 40_000) throw boom;
              return c(r);
            }
          : c,
      ),
    };
    await expect(loader.load(plan('t'), bad)).rejects.toBe(boom);
    expect(await count('t')).toBe(0);
    await loader.load(plan('t'), good);
    expect(await count('t')).toBe(50_000);
  });
});

describe('several batches in one transaction (loadMany)', () => {
  async function* each(...bs: Array<ReturnType<typeof batch>>) {
    yield* bs;
  }
  const rowsOf = (from: number, n: number): Row[] =>
    Array.from({ length: n }, (_, i): Row => [from + i, `row ${from + i}\t${'x'.repeat(i % 30)}`, null]);

  it('streams every row of each batch, in order, empty batches among them, as one LOAD DATA', async () => {
    const parts = [rowsOf(0, 7_000), [], rowsOf(7_000, 1), EXAMPLES.map((r): Row => [r[0] + 10_000, r[1], r[2]])];
    await loader.loadMany!(plan('t'), each(...parts.map(batch)));
    expect(await stored('t')).toEqual(parts.flat());
  });

  it('a value that throws in a later batch leaves none of the earlier ones', async () => {
    const boom = new Error('a later batch cannot be stored');
    const bad = {
      ...batch(rowsOf(100, 10)),
      cells: [
        () => {
          throw boom;
        },
        () => null,
        () => null,
      ],
    };
    await expect(loader.loadMany!(plan('t'), each(batch(rowsOf(0, 100)), bad))).rejects.toBe(boom);
    expect(await count('t')).toBe(0);
  });

  it('where LOCAL INFILE is refused, loads the same rows by INSERT', async () => {
    const refused = await openLoader(URL_, { localInfile: false, logger: captureLogs().logger });
    try {
      await refused.loadMany!(plan('t'), each(batch(EXAMPLES.slice(0, 4)), batch(EXAMPLES.slice(4))));
    } finally {
      await refused.close();
    }
    expect(await stored('t')).toEqual(EXAMPLES);
  });
});

describe('where LOCAL INFILE is refused, multi-row INSERT', () => {
  it('loads the same rows, and says once that it fell back', async () => {
    const { logger, lines } = captureLogs();
    const refused = await openLoader(URL_, { localInfile: false, logger });
    try {
      await refused.load(plan('t'), batch(EXAMPLES.slice(0, 4)));
      await refused.load(plan('t'), batch(EXAMPLES.slice(4)));
    } finally {
      await refused.close();
    }
    expect(await stored('t')).toEqual(EXAMPLES);
    expect(lines.filter((l) => l.includes('LOAD DATA LOCAL INFILE'))).toHaveLength(1);
  });
});

describe('rows that may conflict go through a staging table, with the rule INSERT has', () => {
  const VERSIONED: ColumnSpec[] = [
    { name: 'id', dbType: 'int', nullable: false, kind: 'int32' },
    { name: 'v', dbType: 'text', nullable: true, kind: 'string' },
    { name: 'c', dbType: 'int', nullable: false, kind: 'int32' },
  ];
  type Version = [id: number, v: string, c: number];
  const versions = (rs: Version[]) => ({
    numRows: rs.length,
    cells: [0, 1, 2].map((i) => (r: number) => String(rs[r]![i])),
  });
  const newest: LoadPlan = { ...plan('n', 'newest', VERSIONED), cursor: 'c' };
  const FIRST: Version[] = [
    [1, 'a', 5],
    [2, 'b', 5],
  ];
  // an older version, a newer one, two versions of a new key in one batch, and a tie (the later one wins)
  const SECOND: Version[] = [
    [1, 'older', 4],
    [2, 'newer', 6],
    [3, 'x\ty', 1],
    [3, 'y\\z', 2],
    [2, 'tie', 6],
  ];
  const NEWEST = [
    { id: 1, v: 'a', c: 5 },
    { id: 2, v: 'tie', c: 6 },
    { id: 3, v: 'y\\z', c: 2 },
  ];
  const resetN = () => sql(`CREATE OR REPLACE TABLE ${DB}.n (id int PRIMARY KEY, v text, c int NOT NULL)`);

  it('newest: the newest cursor wins per key, within a batch and across batches', async () => {
    await resetN();
    await loader.load(newest, versions(FIRST));
    await loader.load(newest, versions(SECOND));
    expect(await rows(`SELECT id, v, c FROM ${DB}.n ORDER BY id`)).toEqual(NEWEST);
  });

  it('newest through INSERT gives the same table', async () => {
    await resetN();
    const refused = await openLoader(URL_, { localInfile: false, logger: captureLogs().logger });
    try {
      await refused.load(newest, versions(FIRST));
      await refused.load(newest, versions(SECOND));
    } finally {
      await refused.close();
    }
    expect(await rows(`SELECT id, v, c FROM ${DB}.n ORDER BY id`)).toEqual(NEWEST);
  });

  it('upsert: the last row loaded for a key wins', async () => {
    await resetN();
    const upsert = plan('n', 'upsert', VERSIONED);
    await loader.load(upsert, versions(FIRST));
    await loader.load(upsert, versions(SECOND));
    expect(await rows(`SELECT id, v, c FROM ${DB}.n ORDER BY id`)).toEqual([
      { id: 1, v: 'older', c: 4 },
      { id: 2, v: 'tie', c: 6 },
      { id: 3, v: 'y\\z', c: 2 },
    ]);
  });

  it('a value the table refuses fails the merge and leaves none of the batch', async () => {
    await resetN();
    await sql(`ALTER TABLE ${DB}.n MODIFY v varchar(3)`);
    await loader.load(newest, versions(FIRST));
    await expect(
      loader.load(
        newest,
        versions([
          [1, 'abcd', 9],
          [4, 'd', 1],
        ]),
      ),
    ).rejects.toThrow(/too long/i);
    expect(await rows(`SELECT id, v, c FROM ${DB}.n ORDER BY id`)).toEqual([
      { id: 1, v: 'a', c: 5 },
      { id: 2, v: 'b', c: 5 },
    ]);
  });
});

describe('columns backed up as bytes that are not byte strings in MySQL', () => {
  it('BIT, BINARY and geometry take their bytes back by UNHEX', async () => {
    await sql(`CREATE OR REPLACE TABLE ${DB}.g_src (id int PRIMARY KEY, bits bit(10), fixed binary(4), shape geometry);
      INSERT INTO ${DB}.g_src VALUES (1, b'1010101010', X'00090a5c', ST_GeomFromText('POINT(1 2)')),
        (2, b'0', X'ffffffff', ST_GeomFromText('LINESTRING(0 0, 1 1, 2 5)')), (3, NULL, NULL, NULL);
      CREATE OR REPLACE TABLE ${DB}.g LIKE ${DB}.g_src`);
    const src = await rows(
      `SELECT id, HEX(bits) AS bits, HEX(fixed) AS fixed, HEX(shape) AS shape FROM ${DB}.g_src ORDER BY id`,
    );
    const bytes = (name: string): ColumnSpec => ({ name, dbType: name, nullable: true, kind: 'binary' });
    const columns = [COLUMNS[0]!, bytes('bits'), bytes('fixed'), bytes('shape')];
    const hex = (v: unknown) => (v === null ? null : String(v).toLowerCase());
    await loader.load(plan('g', 'insert', columns), {
      numRows: src.length,
      cells: [
        (r) => String(src[r]!.id),
        (r) => hex(src[r]!.bits),
        (r) => hex(src[r]!.fixed),
        (r) => hex(src[r]!.shape),
      ],
    });
    expect(
      await rows(`SELECT id, HEX(bits) AS bits, HEX(fixed) AS fixed, HEX(shape) AS shape FROM ${DB}.g ORDER BY id`),
    ).toEqual(src);
  });
});

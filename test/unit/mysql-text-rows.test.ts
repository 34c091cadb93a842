import type mysql from 'mysql2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TextRows } from '../../src/source/mysql/text-rows.js';

/**
 * mysql2's Query, as far as TextRows relies on it: a `row` state on the prototype (taken over on
 * the instance) and `error`/`end` events. The test hands it whole text-protocol row packets.
 */
class FakeQuery {
  readonly handlers = new Map<string, (...a: unknown[]) => void>();
  baseRows = 0;
  on(event: string, fn: (...a: unknown[]) => void): this {
    this.handlers.set(event, fn);
    return this;
  }
  row(): unknown {
    this.baseRows++;
    return undefined;
  }
}

function fakeConnection() {
  let query: FakeQuery | undefined;
  const calls: string[] = [];
  const conn = {
    query: () => (query = new FakeQuery()),
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
  } as unknown as mysql.PoolConnection;
  return { conn, calls, query: () => query! };
}

/** A length-encoded string as MySQL writes it, or 0xfb for NULL. */
function lenenc(value: Buffer | null): Buffer {
  if (value === null) return Buffer.from([0xfb]);
  const n = value.length;
  let head: Buffer;
  if (n < 251) head = Buffer.from([n]);
  else if (n < 0x10000) {
    head = Buffer.alloc(3);
    head[0] = 0xfc;
    head.writeUInt16LE(n, 1);
  } else if (n < 0x1000000) {
    head = Buffer.alloc(4);
    head[0] = 0xfd;
    head.writeUIntLE(n, 1, 3);
  } else {
    head = Buffer.alloc(9);
    head[0] = 0xfe;
    head.writeBigUInt64LE(BigInt(n), 1);
  }
  return Buffer.concat([head, value]);
}

/** A row packet inside a larger buffer (as in mysql2's socket chunk): bytes before and after it. */
function packet(fields: Array<Buffer | null>, eof = false) {
  const body = Buffer.concat(fields.map(lenenc));
  const buffer = Buffer.concat([Buffer.from([0xaa, 0xbb, 0xcc]), body, Buffer.from([0x05, 0x41])]);
  return { buffer, offset: 3, end: 3 + body.length, isEOF: () => eof };
}

/** Reads rows of `columns` fields through TextRows; each field as a Buffer (NULL as null). */
function reader(columns: number) {
  const fc0 = fakeConnection();
  const rows: Array<Array<Buffer | null>> = [];
  const columnsSeen: number[] = [];
  let current: Array<Buffer | null> = [];
  const tr = new TextRows(
    fc0.conn,
    'SELECT 1',
    columns,
    (buf, s, e, col) => {
      columnsSeen.push(col);
      current.push(s < 0 ? null : Buffer.from(buf.subarray(s, e)));
    },
    () => {
      rows.push(current);
      current = [];
    },
  );
  const q = fc0.query();
  const feed = (fields: Array<Buffer | null>) =>
    (q as unknown as { row: (p: unknown, c: unknown) => unknown }).row(packet(fields), {});
  return { tr, rows, columnsSeen, feed, q, calls: fc0.calls };
}

const b = (s: string) => Buffer.from(s, 'utf8');

describe('MySQL text-protocol rows (TextRows on hand-built packets)', () => {
  it('hands each field where it lies in the packet, NULL as start -1', () => {
    const r = reader(3);
    r.feed([b('1'), null, b('héllo')]);
    expect(r.rows).toEqual([[b('1'), null, b('héllo')]]);
    expect(r.columnsSeen).toEqual([0, 1, 2]);
    expect(r.tr.rows).toBe(1);
  });

  it('reads empty strings as empty, not NULL', () => {
    const r = reader(2);
    r.feed([b(''), b('x')]);
    expect(r.rows).toEqual([[b(''), b('x')]]);
  });

  it('reads the 2-, 3- and 8-byte length forms (0xfc, 0xfd, 0xfe)', () => {
    const r = reader(3);
    const f2 = Buffer.alloc(300, 0x61);
    const f3 = Buffer.alloc(70_000, 0x62);
    const f8 = Buffer.alloc(0x1000000 + 3, 0x63);
    r.feed([f2, f3, f8]);
    expect(r.rows[0]!.map((f) => f!.length)).toEqual([300, 70_000, 0x1000000 + 3]);
    expect(r.rows[0]![2]!.every((c) => c === 0x63)).toBe(true);
  });

  it("gives the last row's fields back for the next page's key", () => {
    const r = reader(2);
    r.feed([b('1'), b('a')]);
    r.feed([b('2'), null]);
    expect(r.tr.lastFields()).toEqual([b('2'), null]);
  });

  it('gives no key fields before any row was read', () => {
    expect(reader(2).tr.lastFields()).toEqual([]);
  });

  it("hands the end-of-result packet to mysql2's own row state", () => {
    const r = reader(1);
    (r.q as unknown as { row: (p: unknown, c: unknown) => unknown }).row(packet([], true), {});
    expect(r.q.baseRows).toBe(1);
    expect(r.tr.rows).toBe(0);
  });

  it('refuses a row with more fields than columns, and rejects wait() at the end of the result', async () => {
    const r = reader(1);
    r.feed([b('1'), b('2')]);
    expect(r.rows).toEqual([]);
    const waited = r.tr.wait();
    r.q.handlers.get('end')!();
    await expect(waited).rejects.toThrow(/MySQL row has more than 1 fields/);
  });

  it('drains the rest of the result after a refused row, without handing on more fields', () => {
    const r = reader(1);
    r.feed([b('1'), b('extra')]); // refused: too many fields
    const seen = r.columnsSeen.length;
    r.feed([b('2')]);
    r.feed([b('3')]);
    expect(r.columnsSeen).toHaveLength(seen);
    expect(r.rows).toEqual([]);
    expect(r.tr.rows).toBe(0);
  });

  it("rejects wait() at once with the query's error", async () => {
    const r = reader(1);
    const waited = r.tr.wait();
    r.q.handlers.get('error')!(new Error('server gone'));
    await expect(waited).rejects.toThrow('server gone');
  });

  it('resolves wait() with done at the end of the result', async () => {
    const r = reader(1);
    r.feed([b('1')]);
    const waited = r.tr.wait();
    r.q.handlers.get('end')!();
    await expect(waited).resolves.toBe('done');
  });

  it('pause() stops the connection and resolves wait() with paused; resume() goes on', async () => {
    const r = reader(1);
    r.tr.pause();
    await expect(r.tr.wait()).resolves.toBe('paused');
    r.tr.resume();
    expect(r.calls).toEqual(['pause', 'resume']);
  });

  it('decodes any row of generated fields exactly, whatever the lengths', () => {
    const field = fc.option(
      fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
      { nil: null, freq: 4 },
    );
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 8 }), (fields) => {
        const r = reader(fields.length);
        r.feed(fields);
        r.feed(fields);
        expect(r.rows).toEqual([fields, fields]);
        expect(r.tr.lastFields()).toEqual(fields);
      }),
    );
  });
});

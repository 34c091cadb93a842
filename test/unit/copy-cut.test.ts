import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchAssembler } from '../../src/arrow/batch.js';
import { createPgBinaryBuilder } from '../../src/arrow/builders.js';
import type { ColumnSpec } from '../../src/source/columns.js';
import { CopyBinaryDecoder } from '../../src/source/postgres/copy-binary.js';
import { CopyOut } from '../../src/source/postgres/copy-out.js';
import { CopyTextDecoder } from '../../src/source/postgres/copy-text.js';
import { readText } from '../../src/source/postgres/text.js';

/**
 * `COPY … TO STDOUT` as PostgreSQL sends it (CopyOutResponse, one CopyData per row, CopyDone,
 * then CommandComplete and ReadyForQuery for pg), in binary and in text format, built here from
 * generated rows, fed to CopyOut cut into socket reads at every byte, and decoded by the binary
 * and the text decoder: every cut gives the rows of the whole stream, and both formats the same.
 */

interface Row {
  id: bigint;
  s: string | null;
  at: bigint;
}

const cols: ColumnSpec[] = [
  { name: 'id', dbType: 'int8', nullable: false, kind: 'int64' },
  { name: 's', dbType: 'text', nullable: true, kind: 'string' },
  { name: 'at', dbType: 'timestamptz', nullable: false, kind: 'timestamptz' },
];
const PG_EPOCH_MICROS = 946_684_800_000_000n;

const msg = (code: string, body: Buffer) => {
  const h = Buffer.alloc(5);
  h.write(code, 'latin1');
  h.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([h, body]);
};
const int16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
const int32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const int64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
};

function copyOutResponse(binary: boolean): Buffer {
  return msg(
    'H',
    Buffer.concat([Buffer.from([binary ? 1 : 0]), int16(cols.length), ...cols.map(() => int16(binary ? 1 : 0))]),
  );
}

/** What follows CopyDone: pg's part of the stream, which CopyOut gives back untouched. */
const TAIL = Buffer.concat([msg('C', Buffer.from('COPY 3\0', 'latin1')), msg('Z', Buffer.from('I', 'latin1'))]);

/** Binary COPY: the header in the first CopyData, a row per message (field count, then length and bytes per field), the trailer. */
function binaryStream(rows: Row[]): Buffer {
  const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(0)]);
  const field = (v: Buffer | null) => (v === null ? int32(-1) : Buffer.concat([int32(v.length), v]));
  const rowMsgs = rows.map((r, i) =>
    msg(
      'd',
      Buffer.concat([
        ...(i === 0 ? [header] : []),
        int16(3),
        field(int64(r.id)),
        field(r.s === null ? null : Buffer.from(r.s, 'utf8')),
        field(int64(r.at - PG_EPOCH_MICROS)),
      ]),
    ),
  );
  const trailer = msg('d', rows.length ? int16(-1) : Buffer.concat([header, int16(-1)]));
  return Buffer.concat([copyOutResponse(true), ...rowMsgs, trailer, msg('c', Buffer.alloc(0)), TAIL]);
}

/** Text COPY: tab-separated fields, `\N` for NULL, backslash escapes for tab, newline, CR and backslash. */
function textStream(rows: Row[]): Buffer {
  const esc = (s: string) =>
    s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
  const stamp = (m: bigint) => {
    const iso = new Date(Number(m / 1000n)).toISOString();
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(m % 1_000_000n).padStart(6, '0')}+00`;
  };
  const line = (r: Row) => `${r.id}\t${r.s === null ? '\\N' : esc(r.s)}\t${stamp(r.at)}\n`;
  return Buffer.concat([
    copyOutResponse(false),
    ...rows.map((r) => msg('d', Buffer.from(line(r), 'utf8'))),
    msg('c', Buffer.alloc(0)),
    TAIL,
  ]);
}

/** pg's socket as CopyOut uses it: one 'data' listener (pg's parser), and read() handing out the reads one by one. */
class FakeSocket extends EventEmitter {
  constructor(private readonly reads: Buffer[]) {
    super();
  }
  read(): Buffer | null {
    return this.reads.shift() ?? null;
  }
  pause(): void {}
  resume(): void {}
  /** What pg would read after CopyOut gave the socket back. */
  rest(): Buffer[] {
    return this.reads.splice(0);
  }
}

/** Runs one COPY through CopyOut and a decoder; the decoded rows and the bytes pg got back. */
function run(stream: Buffer, cuts: number[], binary: boolean) {
  const asm = binary
    ? new BatchAssembler(cols, readText, 4, [
        createPgBinaryBuilder(cols[0]!, 'int8', 4),
        createPgBinaryBuilder(cols[1]!, 'varlena', 4),
        createPgBinaryBuilder(cols[2]!, 'timestamp', 4),
      ])
    : new BatchAssembler(cols, readText, 4);
  const dec = binary ? new CopyBinaryDecoder(asm, [0], ['int8']) : new CopyTextDecoder(asm, [0]);
  const reads: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, stream.length]) {
    if (c > at) reads.push(stream.subarray(at, c));
    at = c;
  }
  const socket = new FakeSocket(reads);
  const toPg: Buffer[] = [];
  socket.on('data', (b: Buffer) => toPg.push(b));
  const copy = new CopyOut('COPY t TO STDOUT', (buf, s, e) => dec.row(buf, s, e));
  copy.submit({ stream: socket, query: () => undefined });
  dec.end();
  const got = asm
    .flush()
    .toArray()
    .map((r) => {
      const j = r.toJSON() as Record<string, unknown>;
      return { id: j.id, s: j.s, at: j.at };
    });
  return { rows: got, lastKey: dec.lastKey, toPg: Buffer.concat([...toPg, ...socket.rest()]) };
}

const rowArb: fc.Arbitrary<Row> = fc.record({
  id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  s: fc.option(fc.string({ unit: fc.constantFrom('a', 'é', '\t', '\n', '\r', '\\', 'N', ' ', '😀'), maxLength: 12 }), {
    nil: null,
  }),
  at: fc.bigInt({ min: 0n, max: 4_102_444_800_000_000n - 1n }), // 1970 .. 2100
});

const sample: Row[] = [
  { id: 1n, s: 'tab\there', at: 1_700_000_000_123_456n },
  { id: -(2n ** 63n), s: null, at: 0n },
  { id: 2n ** 63n - 1n, s: 'back\\slash\nnew', at: 4_102_444_799_999_999n },
];

describe('COPY cut at every byte (CopyOut → binary and text decoders)', () => {
  const expectedRows = (rows: Row[]) => run(binaryStream(rows), [], true).rows;

  it('decodes the binary stream the same whichever byte one socket read ends at', () => {
    const stream = binaryStream(sample);
    const whole = run(stream, [], true);
    expect(whole.rows.map((r) => r.id)).toEqual(sample.map((r) => r.id));
    for (let k = 1; k < stream.length; k++) expect(run(stream, [k], true).rows, `cut at ${k}`).toEqual(whole.rows);
  });

  it('decodes the text stream the same whichever byte one socket read ends at', () => {
    const stream = textStream(sample);
    const whole = run(stream, [], false);
    for (let k = 1; k < stream.length; k++) expect(run(stream, [k], false).rows, `cut at ${k}`).toEqual(whole.rows);
  });

  it('decodes the same rows from the text stream as from the binary stream', () => {
    expect(run(textStream(sample), [], false).rows).toEqual(expectedRows(sample));
  });

  it('hands pg exactly the bytes after CopyDone, wherever the reads are cut', () => {
    for (const stream of [binaryStream(sample), textStream(sample)]) {
      for (let k = 1; k < stream.length; k++)
        expect(run(stream, [k], stream[5] === 1).toPg.equals(TAIL), `cut at ${k}`).toBe(true);
    }
  });

  it('decodes the binary stream read one byte at a time', () => {
    const stream = binaryStream(sample);
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(run(stream, cuts, true).rows).toEqual(expectedRows(sample));
  });

  it('remembers the last key the same in both formats and under any cut', () => {
    const bin = binaryStream(sample);
    const txt = textStream(sample);
    for (let k = 1; k < bin.length; k += 7) expect(run(bin, [k], true).lastKey).toEqual([String(2n ** 63n - 1n)]);
    for (let k = 1; k < txt.length; k += 7) expect(run(txt, [k], false).lastKey).toEqual([String(2n ** 63n - 1n)]);
  });

  it('property: any rows, any cuts: both formats decode the generated rows exactly', () => {
    const cutsFor = (n: number) =>
      fc
        .uniqueArray(fc.integer({ min: 1, max: Math.max(1, n - 1) }), { maxLength: 12 })
        .map((c) => c.sort((a, b) => a - b));
    fc.assert(
      fc.property(
        fc.array(rowArb, { maxLength: 8 }).chain((rows) => {
          const bin = binaryStream(rows);
          const txt = textStream(rows);
          return fc.tuple(fc.constant(rows), cutsFor(bin.length), cutsFor(txt.length));
        }),
        ([rows, binCuts, txtCuts]) => {
          const bin = run(binaryStream(rows), binCuts, true);
          const txt = run(textStream(rows), txtCuts, false);
          expect(bin.rows.map((r) => r.id)).toEqual(rows.map((r) => r.id));
          expect(bin.rows.map((r) => r.s)).toEqual(rows.map((r) => r.s));
          expect(txt.rows).toEqual(bin.rows);
          expect(bin.toPg.equals(TAIL) && txt.toPg.equals(TAIL)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives an ErrorResponse to pg at once, however it is cut', () => {
    const rowsPart = binaryStream(sample.slice(0, 1));
    const first = copyOutResponse(true).length;
    const cutAt = first + 1 + rowsPart.readUInt32BE(first + 1); // just after the first CopyData (the header and one row)
    const error = msg('E', Buffer.from('SERROR\0C57014\0Mcanceling statement\0\0', 'latin1'));
    const stream = Buffer.concat([rowsPart.subarray(0, cutAt), error, TAIL]);
    for (let k = 1; k < stream.length; k++) {
      const asm = new BatchAssembler(cols, readText, 4, [
        createPgBinaryBuilder(cols[0]!, 'int8', 4),
        createPgBinaryBuilder(cols[1]!, 'varlena', 4),
        createPgBinaryBuilder(cols[2]!, 'timestamp', 4),
      ]);
      const dec = new CopyBinaryDecoder(asm, [0], ['int8']);
      const socket = new FakeSocket([stream.subarray(0, k), stream.subarray(k)]);
      const toPg: Buffer[] = [];
      socket.on('data', (b: Buffer) => toPg.push(b));
      new CopyOut('COPY t TO STDOUT', (buf, s, e) => dec.row(buf, s, e)).submit({
        stream: socket,
        query: () => undefined,
      });
      expect(dec.rows, `cut at ${k}`).toBe(1);
      expect(Buffer.concat([...toPg, ...socket.rest()]).equals(Buffer.concat([error, TAIL])), `cut at ${k}`).toBe(true);
    }
  });
});

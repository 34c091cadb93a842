import { makeVector, type Data, type Vector } from 'apache-arrow';
import type { ColumnSpec } from '../source/columns.js';
import { quotePgIdent } from '../source/quote.js';
import { decimalText } from '../restore/values.js';

/**
 * The canonical text of a value for verify's checksums, the same whether it is computed in
 * PostgreSQL (pgCanonSql) or from Arrow data (canonReader): integers and decimals in decimal
 * digits, floats as the hex of their IEEE bytes, dates as day numbers, times and timestamps as
 * microsecond numbers, bytes as hex, text and JSON as the database's own text, arrays as JSON.
 * A cell is `v<text>`, or `n` for NULL, so NULL and any text differ.
 */

const NUMERIC = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'decimal', 'float32', 'float64']);

function floatHex(v: number, bytes: 4 | 8): string {
  const b = Buffer.alloc(bytes);
  if (bytes === 4) b.writeFloatBE(v); else b.writeDoubleBE(v);
  return b.toString('hex');
}

/**
 * Raw text of a value (no NULL marker), or null. `written` is the column as the object holds it
 * (an older schema version's narrower type); the text is that of `spec`, the current type: a
 * decimal at the current scale, a float32 widened to float64 by its float64 bytes.
 */
function rawReader(spec: ColumnSpec, data: Data, written: ColumnSpec = spec): (i: number) => string | null {
  const valid = (i: number) => data.nullCount === 0 || data.getValid(i);
  const off = data.offset;
  switch (written.kind) {
    case 'decimal': {
      const w = data.values as Uint32Array;
      const scale = written.scale ?? 0;
      const pad = spec.kind === 'decimal' ? Math.max(0, (spec.scale ?? 0) - scale) : 0;
      const zeros = pad ? `${scale === 0 ? '.' : ''}${'0'.repeat(pad)}` : '';
      return (i) => (valid(i) ? decimalText(w, (off + i) * 4, scale) + zeros : null);
    }
    case 'float32': case 'float64': {
      const values = data.values as Float32Array | Float64Array;
      const n = spec.kind === 'float32' ? 4 : 8;
      return (i) => (valid(i) ? floatHex(values[off + i]!, n) : null);
    }
    case 'bool': { const v = makeVector(data) as Vector; return (i) => (valid(i) ? (v.get(i) ? '1' : '0') : null); }
    case 'binary': { const v = makeVector(data) as Vector; return (i) => (valid(i) ? Buffer.from(v.get(i) as Uint8Array).toString('hex') : null); }
    case 'date': case 'time': case 'timestamp': case 'timestamptz': {
      const values = data.values as unknown as ArrayLike<number | bigint>;
      return (i) => (valid(i) ? String(values[off + i]) : null);
    }
    case 'list': {
      const offsets = data.valueOffsets as Int32Array;
      const el = rawReader(spec.element!, data.children[0]!, written.element);
      const numeric = NUMERIC.has(spec.element!.kind) && !spec.element!.kind.startsWith('float');
      return (i) => {
        if (!valid(i)) return null;
        const items: string[] = [];
        for (let k = offsets[off + i]!; k < offsets[off + i + 1]!; k++) {
          const v = el(k);
          items.push(v === null ? 'null' : numeric ? v : JSON.stringify(v));
        }
        return `[${items.join(',')}]`;
      };
    }
    default: { const v = makeVector(data) as Vector; return (i) => (valid(i) ? String(v.get(i)) : null); }
  }
}

export function canonReader(spec: ColumnSpec, data: Data, written?: ColumnSpec): (i: number) => string {
  const raw = rawReader(spec, data, written);
  return (i) => { const v = raw(i); return v === null ? 'n' : `v${v}`; };
}

/** The same canonical cell as an SQL expression over a PostgreSQL column. */
export function pgCanonSql(spec: ColumnSpec): string {
  const c = quotePgIdent(spec.name);
  let e: string;
  switch (spec.kind) {
    case 'bool': e = `CASE WHEN ${c} THEN '1' ELSE '0' END`; break;
    case 'float32': e = `encode(float4send(${c}), 'hex')`; break;
    case 'float64': e = `encode(float8send(${c}), 'hex')`; break;
    case 'binary': e = `encode(${c}, 'hex')`; break;
    case 'date': e = `CASE WHEN isfinite(${c}) THEN (${c} - date '1970-01-01')::text END`; break;
    case 'time': e = `(extract(epoch FROM ${c}) * 1000000)::bigint::text`; break;
    case 'timestamp': case 'timestamptz': e = `CASE WHEN isfinite(${c}) THEN (extract(epoch FROM ${c}) * 1000000)::bigint::text END`; break;
    case 'list':
      e = spec.element!.kind === 'float32' || spec.element!.kind === 'float64'
        ? `array_to_json(ARRAY(SELECT encode(${spec.element!.kind === 'float32' ? 'float4send' : 'float8send'}(x), 'hex') FROM unnest(${c}) WITH ORDINALITY AS u(x, n) ORDER BY n))::text`
        : `array_to_json(${c})::text`;
      break;
    case 'string': case 'json': e = `format('%s', ${c})`; break; // the type's output function: char(n) keeps its padding
    default: e = `${c}::text`;
  }
  // format('%s', NULL) is '', not NULL: test the column itself
  return `CASE WHEN ${c} IS NULL THEN 'n' ELSE coalesce('v' || ${e}, 'n') END`;
}

/** Key ranges: rows are spread over this many buckets by the MD5 of their key's canonical text. */
export const BUCKETS = 1024;

/** One side of a verify: per bucket, the row count and two 32-bit sums of row MD5s. */
export interface Side { count: Uint32Array; sumA: Uint32Array; sumB: Uint32Array }

export function newSide(): Side {
  return { count: new Uint32Array(BUCKETS), sumA: new Uint32Array(BUCKETS), sumB: new Uint32Array(BUCKETS) };
}

import type { ColumnSpec } from '../source/columns.js';

/** What changed between the schema a table was backed up with and the one it has now. */
export interface SchemaDiff {
  added: string[];
  dropped: string[];
  /** Same values, a wider type: int4 → int8, varchar(n) → text, numeric(p,s) → numeric(p',s') with room for every old value. */
  widened: Array<{ column: string; from: string; to: string }>;
  /** Old values may not fit, or mean something else: text → int, timestamptz → date, a narrower numeric. */
  incompatible: Array<{ column: string; from: string; to: string }>;
  /** The cursor or primary key columns differ. */
  keyChanged?: { from: string[]; to: string[] };
}

const INT_ORDER = ['int8', 'int16', 'int32', 'int64'];
const UINT_ORDER = ['uint8', 'uint16', 'uint32', 'uint64'];
const unbounded = (c: ColumnSpec) => c.kind === 'string' && /^(numeric|decimal)\b/i.test(c.dbType);

/** Every value of `from` is a value of `to`, with the same meaning. */
export function isWidening(from: ColumnSpec, to: ColumnSpec): boolean {
  if (from.kind === to.kind) {
    if (from.kind === 'string' || from.kind === 'binary') {
      // varchar(n) → varchar(m ≥ n) or text; never to a shorter or bounded type from an unbounded one
      const len = (t: string) => {
        const m = /\((\d+)\)/.exec(t);
        return m ? Number(m[1]) : undefined;
      };
      const [a, b] = [len(from.dbType), len(to.dbType)];
      if (b !== undefined && (a === undefined || b < a)) return false;
    }
    if (from.kind !== 'decimal') return from.kind !== 'list' || isWidening(from.element!, to.element!);
    const [p, s, p2, s2] = [from.precision ?? 38, from.scale ?? 0, to.precision ?? 38, to.scale ?? 0];
    return s2 >= s && p2 - s2 >= p - s;
  }
  for (const order of [INT_ORDER, UINT_ORDER]) {
    const a = order.indexOf(from.kind);
    const b = order.indexOf(to.kind);
    if (a >= 0 && b >= 0) return b >= a;
  }
  // an unsigned integer fits a signed one of twice its width
  const u = UINT_ORDER.indexOf(from.kind);
  const i = INT_ORDER.indexOf(to.kind);
  if (u >= 0 && i > u) return true;
  if (from.kind === 'float32' && to.kind === 'float64') return true;
  // numeric(p,s) → numeric; a bounded decimal whose digits fit a wider one
  if (from.kind === 'decimal' && unbounded(to)) return true;
  return false;
}

export function diffSchemas(
  before: ColumnSpec[],
  now: ColumnSpec[],
  keysBefore: string[] | undefined,
  keysNow: string[],
): SchemaDiff {
  const old = new Map(before.map((c) => [c.name, c]));
  const cur = new Map(now.map((c) => [c.name, c]));
  const d: SchemaDiff = { added: [], dropped: [], widened: [], incompatible: [] };
  for (const c of now) if (!old.has(c.name)) d.added.push(c.name);
  for (const c of before) if (!cur.has(c.name)) d.dropped.push(c.name);
  for (const c of now) {
    const o = old.get(c.name);
    if (!o || (o.kind === c.kind && o.dbType === c.dbType && o.precision === c.precision && o.scale === c.scale))
      continue;
    (isWidening(o, c) ? d.widened : d.incompatible).push({ column: c.name, from: o.dbType, to: c.dbType });
  }
  if (keysBefore && keysBefore.join('\u0000') !== keysNow.join('\u0000'))
    d.keyChanged = { from: keysBefore, to: keysNow };
  return d;
}

export function isEmptyDiff(d: SchemaDiff): boolean {
  return !d.added.length && !d.dropped.length && !d.widened.length && !d.incompatible.length && !d.keyChanged;
}

/** One line per change, as `status` and error messages show them. */
export function describeDiff(d: SchemaDiff): string[] {
  return [
    ...d.added.map((c) => `column ${c} added`),
    ...d.dropped.map((c) => `column ${c} dropped`),
    ...d.widened.map((w) => `column ${w.column} widened from ${w.from} to ${w.to}`),
    ...d.incompatible.map(
      (w) => `column ${w.column} changed from ${w.from} to ${w.to}, which not every old value fits`,
    ),
    ...(d.keyChanged
      ? [
          `key columns (cursor, primary key) changed from (${d.keyChanged.from.join(', ')}) to (${d.keyChanged.to.join(', ')})`,
        ]
      : []),
  ];
}

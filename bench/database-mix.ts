/**
 * The database bench's table mix: groups of bench-shaped tables, `COUNTxROWS` or `COUNTxMIN-MAX`,
 * comma-separated. Each table's name and row count follow from the spec alone, so the same spec
 * always means the same schema (the generator reuses it when the row counts match).
 */

/** 4 large tables and 240 small ones (80 empty, 120 of 1-100 rows, 40 of 10k): 2.4M rows. */
export const DEFAULT_MIX = '4x500000,80x0,120x1-100,40x10000';

/** The largest table the small-table fixed-cost case takes. */
export const SMALL_TABLE_MAX_ROWS = 100;

export interface TableGroup {
  count: number;
  minRows: number;
  maxRows: number;
}

export interface MixTable {
  name: string;
  rows: number;
  /** At most SMALL_TABLE_MAX_ROWS rows in every table of its group: part of the fixed-cost case. */
  small: boolean;
}

const GROUP = /^(\d+)x(\d+)(?:-(\d+))?$/;

/** The groups of a mix spec; an Error saying what to write for a malformed one. */
export function parseMix(spec: string): TableGroup[] {
  const groups = spec.split(',').map((part) => {
    const m = GROUP.exec(part.trim());
    if (!m) throw new Error(`--mix: "${part}" is not COUNTxROWS or COUNTxMIN-MAX (e.g. ${DEFAULT_MIX})`);
    const count = Number(m[1]);
    const minRows = Number(m[2]);
    const maxRows = m[3] === undefined ? minRows : Number(m[3]);
    if (count < 1 || maxRows < minRows || !Number.isSafeInteger(count * maxRows))
      throw new Error(`--mix: "${part}" needs a count of at least 1 and MIN ≤ MAX`);
    return { count, minRows, maxRows };
  });
  const prefixes = groups.map(groupPrefix);
  const twice = prefixes.find((p, i) => prefixes.indexOf(p) !== i);
  if (twice !== undefined) throw new Error(`--mix: two groups of the same rows (${twice}); add their counts into one`);
  return groups;
}

/** A group's table names begin with its rows: empty_, n10000_, r1_100_. */
function groupPrefix(g: TableGroup): string {
  if (g.maxRows === 0) return 'empty';
  return g.minRows === g.maxRows ? `n${g.minRows}` : `r${g.minRows}_${g.maxRows}`;
}

/** Every table of the mix, in spec order: names numbered within their group, row counts spread over MIN-MAX. */
export function mixTables(groups: readonly TableGroup[]): MixTable[] {
  return groups.flatMap((g) => {
    const width = String(g.count).length;
    const span = g.maxRows - g.minRows + 1;
    return Array.from({ length: g.count }, (_, i) => ({
      name: `${groupPrefix(g)}_${String(i + 1).padStart(width, '0')}`,
      // a stride prime to most spans, so consecutive tables differ in size
      rows: g.minRows + ((i * 7919) % span),
      small: g.maxRows <= SMALL_TABLE_MAX_ROWS,
    }));
  });
}

/** One line for the report: "244 tables, 2,405,123 rows: 4 × 500000, 80 × 0, 120 × 1-100, 40 × 10000". */
export function describeMix(groups: readonly TableGroup[]): string {
  const tables = mixTables(groups);
  const rows = tables.reduce((n, t) => n + t.rows, 0);
  const parts = groups.map((g) => `${g.count} × ${g.minRows === g.maxRows ? g.minRows : `${g.minRows}-${g.maxRows}`}`);
  return `${tables.length} tables, ${rows.toLocaleString('en-US')} rows: ${parts.join(', ')}`;
}

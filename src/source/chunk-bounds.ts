/**
 * The engine-neutral half of chunk planning (`Source.planChunks`): choosing bounds from a sorted
 * sample or histogram so that chunks are near equal, and splitting integer or page ranges evenly.
 * Pure; each engine turns the ranges into SQL.
 */

/**
 * A key value and the share of rows it stands for: the rows after the point before it, up to and
 * including it (a sampled row weighs 1; a histogram bound weighs its bucket).
 */
export interface KeyPoint {
  value: string;
  weight: number;
}

/**
 * A chunk as a key range: rows with key > `above` (when set) and ≤ `upTo` (when set). The ranges
 * of a plan are in order, the first unbounded below, the last above, each `upTo` the next one's
 * `above`; `share` is the fraction of the rows it is expected to hold (the shares sum to 1).
 */
export interface KeyRange<T> {
  above?: T;
  upTo?: T;
  share: number;
}

/** A chunk as a page range: pages `from` (when set) up to, not including, `to` (when set). */
export interface PageRange {
  from?: number;
  to?: number;
  share: number;
}

/** Ranges meeting at `bounds` (in order, distinct), with their shares. */
function rangesAt<T>(bounds: T[], shares: number[]): Array<KeyRange<T>> {
  return shares.map((share, i) => ({
    ...(i > 0 ? { above: bounds[i - 1] } : {}),
    ...(i < bounds.length ? { upTo: bounds[i] } : {}),
    share,
  }));
}

/**
 * At most `chunks` ranges of near-equal weight, bounded at points of `points`, which must be in
 * the key column's own order (as `ORDER BY key` or a histogram gives them); `beyond` weighs the
 * rows after the last point (a walk's remainder; a sample has none). Equal neighbours are one
 * point; a bound never repeats, and is never the last point unless rows lie beyond it. Each
 * bound is the point whose running weight is nearest its target j/chunks, so a range's share is
 * within 1/chunks ± 2 × (heaviest point's share, `beyond` counted as a point).
 */
export function chooseBounds(points: readonly KeyPoint[], chunks: number, beyond = 0): Array<KeyRange<string>> {
  const merged: Array<{ value?: string; weight: number }> = [];
  for (const p of points) {
    const last = merged[merged.length - 1];
    if (last && last.value === p.value) last.weight += Math.max(0, p.weight);
    else merged.push({ value: p.value, weight: Math.max(0, p.weight) });
  }
  if (beyond > 0) merged.push({ weight: beyond }); // never a bound: it is the last point
  const cum: number[] = [];
  let total = 0;
  for (const p of merged) cum.push((total += p.weight));
  if (chunks <= 1 || merged.length < 2 || total <= 0) return [{ share: 1 }];
  const chosen: number[] = [];
  for (let j = 1; j < chunks; j++) {
    const target = (j * total) / chunks;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! >= target) hi = mid;
      else lo = mid + 1;
    }
    const i = lo > 0 && target - cum[lo - 1]! <= cum[lo]! - target ? lo - 1 : lo;
    if (i >= merged.length - 1 || (chosen.length && i <= chosen[chosen.length - 1]!)) continue;
    chosen.push(i);
  }
  const edges = [-1, ...chosen, merged.length - 1];
  const shares = edges.slice(1).map((e, k) => (cum[e]! - (edges[k]! < 0 ? 0 : cum[edges[k]!]!)) / total);
  return rangesAt(
    chosen.map((i) => merged[i]!.value!),
    shares,
  );
}

/**
 * At most `chunks` ranges of the integers `min`..`max` holding near-equal counts of values (they
 * differ by at most one), for a key whose values are spread evenly.
 */
export function splitIntegerRange(min: bigint, max: bigint, chunks: number): Array<KeyRange<bigint>> {
  const span = max - min + 1n;
  if (chunks <= 1 || span < 2n) return [{ share: 1 }];
  const k = BigInt(Math.min(chunks, Number(span)));
  const bounds: bigint[] = [];
  for (let j = 1n; j < k; j++) bounds.push(min - 1n + (j * span) / k);
  const edges = [min - 1n, ...bounds, max];
  return rangesAt(
    bounds,
    edges.slice(1).map((e, i) => Number(e - edges[i]!) / Number(span)),
  );
}

/** At most `chunks` ranges of pages 0..`pages`-1, near equal in pages (they differ by at most one). */
export function splitPages(pages: number, chunks: number): PageRange[] {
  const k = Math.min(chunks, pages);
  if (k <= 1) return [{ share: 1 }];
  const starts = Array.from({ length: k - 1 }, (_, j) => Math.floor(((j + 1) * pages) / k));
  const edges = [0, ...starts, pages];
  return edges.slice(1).map((to, i) => ({
    ...(i > 0 ? { from: edges[i]! } : {}),
    ...(i < starts.length ? { to } : {}),
    share: (to - edges[i]!) / pages,
  }));
}

/**
 * How many chunks of about `chunkRows` rows `rows` makes (at least one). Row counts are
 * estimates, so a chunk may hold up to 5% over `chunkRows` before another is added: a 4,000,048
 * row estimate is 16 chunks of 250,000, not 17 of 235,297.
 */
export function chunkCount(rows: number, chunkRows: number): number {
  if (!(chunkRows >= 1)) throw new Error(`internal: chunkRows must be at least 1, not ${chunkRows}`);
  return Math.max(1, Math.ceil(rows / (chunkRows * 1.05)));
}

import picomatch from 'picomatch';
import { isManifestKey } from '../manifest/layout.js';
import { compareKeys, listObjects, type ListedObject } from '../s3/list.js';
import type { SyncSide } from './copy.js';
import type { SyncTally } from './summary.js';

/** A key filter from include/exclude globs; `*` stops at `/`, `**` crosses it, dotfiles match. */
export function keyFilter(include: string[] = [], exclude: string[] = []): (key: string) => boolean {
  const opts = { dot: true };
  const inc = include.length ? picomatch(include, opts) : () => true;
  const exc = exclude.length ? picomatch(exclude, opts) : () => false;
  return (key) => inc(key) && !exc(key);
}

/** tablevault's manifests (export and incremental) name the data objects beside them. */
export function isManifest(key: string): boolean {
  return isManifestKey(key);
}

export interface ListedPair {
  key: string;
  src?: ListedObject;
  dst?: ListedObject;
}

/** Pairs two key-sorted listings: each key once, with the source's object, the destination's, or both. */
export async function* mergeListings(
  a: AsyncIterable<ListedObject>,
  b: AsyncIterable<ListedObject>,
): AsyncGenerator<ListedPair> {
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  try {
    // both first pages at once
    let [x, y] = await Promise.all([ia.next(), ib.next()]);
    while (!x.done || !y.done) {
      const c = x.done ? 1 : y.done ? -1 : compareKeys(x.value.key, y.value.key);
      if (c < 0) {
        yield { key: x.value!.key, src: x.value! };
        x = await ia.next();
      } else if (c > 0) {
        yield { key: y.value!.key, dst: y.value! };
        y = await ib.next();
      } else {
        yield { key: x.value!.key, src: x.value!, dst: y.value! };
        x = await ia.next();
        y = await ib.next();
      }
    }
  } finally {
    await ia.return?.();
    await ib.return?.();
  }
}

/**
 * Both sides' objects under their prefixes, paired by key (relative to the prefix) as sorted
 * streams, counted as listed, then only the keys the include/exclude globs select. Ends (and
 * stops listing) at the first pair after `stop()` turns true.
 */
export async function* listedPairs(
  src: SyncSide,
  dst: SyncSide,
  accept: (key: string) => boolean,
  tally: SyncTally,
  stop: () => boolean,
): AsyncGenerator<ListedPair> {
  const listed = () => tally.request('list');
  const under = (side: SyncSide) => (side.prefix ? `${side.prefix}/` : '');
  for await (const pair of mergeListings(listObjects(src, under(src), listed), listObjects(dst, under(dst), listed))) {
    if (stop()) return;
    tally.listedPair(!!pair.src, !!pair.dst);
    if (accept(pair.key)) yield pair;
  }
}

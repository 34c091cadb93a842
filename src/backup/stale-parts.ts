import { isPartKey } from '../manifest/layout.js';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../store/store.js';

/**
 * Part files of an earlier, larger export of the same table would otherwise be read as current
 * rows; the temporary files of one that was killed would stay in the folder for good.
 */
export async function removeStaleParts(
  store: ObjectStore,
  prefix: string,
  keep: Set<string>,
  log: Logger,
): Promise<void> {
  const stale: string[] = [];
  for await (const key of store.list(`${prefix}/`)) if (isPartKey(key) && !keep.has(key)) stale.push(key);
  if (stale.length) {
    log.info({ objects: stale.length }, 'removing part files left by an earlier export of this table');
    await store.delete(stale);
  }
  const abandoned = (await store.removeAbandoned?.(prefix)) ?? 0;
  if (abandoned) log.info({ files: abandoned }, 'removed temporary files a killed export of this table left');
}

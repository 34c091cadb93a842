import type { Hashed } from './backup-rows.js';
import type { VerifyTableResult } from './result.js';

/** Keys named per kind of difference in the report. */
const MAX_KEYS_REPORTED = 100;

/** The key's text as a user reads it: the primary key values joined with ", ". */
const showKey = (k: string) =>
  k
    .split('\u001f')
    .map((v) => (v === 'n' ? 'NULL' : v.slice(1)))
    .join(', ');

/** Names the keys of the differing ranges: the source's digests per key against the backup's rows of those ranges. */
export async function nameDifferingKeys(
  result: VerifyTableResult,
  fromSource: Map<string, string>,
  fromBackup: AsyncIterable<Hashed>,
): Promise<void> {
  const note = (list: { count: number; keys: string[] }, key: string) => {
    list.count++;
    if (list.keys.length < MAX_KEYS_REPORTED) list.keys.push(showKey(key));
  };
  for await (const r of fromBackup) {
    const s = fromSource.get(r.key);
    if (s === undefined) note(result.notInSource, r.key);
    else {
      if (s !== r.h.digest) note(result.changed, r.key);
      fromSource.delete(r.key);
    }
  }
  for (const key of fromSource.keys()) note(result.missingFromBackup, key);
}

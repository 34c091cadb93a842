import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage, inputError } from '../errors.js';
import { parseTablePattern, patternMatches, type TablePattern } from '../plan/patterns.js';
import { redactUrl } from '../redact.js';
import type { S3Options } from '../s3/client.js';
import { DEFAULT_UPLOADER_OPTIONS } from '../s3/uploader.js';
import { openDestination } from '../store/open.js';
import type { ObjectStore } from '../store/store.js';
import { decodeTableSegment, MANIFEST_NAME, tableUrl } from './layout.js';

/** A table folder of a backup: the table's name, the folder's URL, and its objects (a proxy for its size). */
export interface BackupTable {
  schema: string;
  name: string;
  url: string;
  objects: number;
  /** Bytes of its Parquet objects: what ranks the tables by size (a count of objects ranks every one-object table the same). */
  bytes: number;
}

/**
 * Every table folder directly under the prefix that holds a manifest (a finished backup of that
 * table), largest first by the bytes of its objects; or the prefix itself when it is a table folder.
 */
async function listBackupTables(store: ObjectStore, prefix: string, from: string): Promise<BackupTable[]> {
  const head = prefix ? `${prefix}/` : '';
  const objects = new Map<string, { count: number; bytes: number }>();
  const tables: string[] = [];
  for await (const { key, size } of store.listSizes(prefix)) {
    if (!key.startsWith(head)) continue;
    const rest = key.slice(head.length);
    if (rest === MANIFEST_NAME) {
      // the prefix is one table's folder: that table (a local store is rooted at the folder itself)
      const path = prefix || basename(fileURLToPath(from));
      return [{ ...decodeTableSegment(path.slice(path.lastIndexOf('/') + 1)), url: from, objects: 0, bytes: 0 }];
    }
    const slash = rest.indexOf('/');
    if (slash < 0) continue;
    const segment = rest.slice(0, slash);
    if (rest.slice(slash + 1) === MANIFEST_NAME) tables.push(segment);
    else if (rest.endsWith('.parquet')) {
      const o = objects.get(segment) ?? { count: 0, bytes: 0 };
      objects.set(segment, { count: o.count + 1, bytes: o.bytes + size });
    }
  }
  return tables
    .map((segment) => {
      const t = decodeTableSegment(segment);
      const o = objects.get(segment);
      return { ...t, url: tableUrl(from, t), objects: o?.count ?? 0, bytes: o?.bytes ?? 0 };
    })
    .sort(
      (a, b) =>
        b.bytes - a.bytes || b.objects - a.objects || (`${a.schema}.${a.name}` < `${b.schema}.${b.name}` ? -1 : 1),
    );
}

function patterns(flag: string, texts: string[] | undefined): TablePattern[] {
  return (texts ?? []).map((t) => {
    try {
      return parseTablePattern(t);
    } catch (e) {
      throw inputError('TABLE', `${flag} ${JSON.stringify(t)}: ${errorMessage(e)}`);
    }
  });
}

/**
 * The tables backed up under `from` (a destination prefix, or one table's folder) that `tables`
 * match (all when none is given) and `exclude` does not, largest first. A pattern without a
 * schema matches a table of that name in any schema. Bad input (exit 2) when there are none.
 */
export async function chooseBackupTables(
  from: string,
  s3: S3Options | undefined,
  tables: string[] | undefined,
  exclude: string[] | undefined,
): Promise<BackupTable[]> {
  const include = patterns('--tables', tables);
  const without = patterns('--exclude', exclude);
  const url = from.replace(/\/+$/, '');
  const dest = openDestination(url, s3 ?? {}, DEFAULT_UPLOADER_OPTIONS);
  let found: BackupTable[];
  try {
    await dest.store.check();
    found = await listBackupTables(dest.store, dest.prefix, url);
  } finally {
    dest.store.close();
  }
  const matches = (ps: TablePattern[], t: BackupTable) => ps.some((p) => patternMatches(p, t, t.schema));
  const chosen = found.filter((t) => (include.length === 0 || matches(include, t)) && !matches(without, t));
  if (found.length === 0)
    throw inputError(
      'NO_TABLES',
      `${redactUrl(from)} holds no table backups (no <schema.table>/${MANIFEST_NAME} under it); give the destination prefix a backup wrote to`,
    );
  if (chosen.length === 0)
    throw inputError(
      'NO_TABLES',
      `no table of ${redactUrl(from)} matches --tables ${(tables ?? []).join(' ')}${exclude?.length ? ` less --exclude ${exclude.join(' ')}` : ''}; it holds ${found.length} (e.g. ${found
        .slice(0, 3)
        .map((t) => `${t.schema}.${t.name}`)
        .join(', ')})`,
    );
  return chosen;
}

import type { SourceTable } from '../source/columns.js';
import type { ObjectStore } from '../store/store.js';
import { VERSION } from '../version.js';

/** Each table's manifest, beside its data objects, written after them. */
export const MANIFEST_NAME = '_manifest.json';

/** Key-value metadata in every Parquet footer, so an object found on its own says where it came from. */
export function parquetMetadata(table: Pick<SourceTable, 'engine' | 'schema' | 'name'>, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'tablevault.version': VERSION,
    'tablevault.source': JSON.stringify({ engine: table.engine, schema: table.schema, table: table.name }),
    ...extra,
  };
}

/** Writes a manifest (or any JSON document) as one object. */
export async function putJson(store: ObjectStore, key: string, value: unknown): Promise<void> {
  await store.put({ key, contentType: 'application/json', body: (async function* () { yield Buffer.from(`${JSON.stringify(value, null, 2)}\n`); })() });
}

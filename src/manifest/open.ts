import type { S3Options } from '../s3/client.js';
import { DEFAULT_UPLOADER_OPTIONS } from '../s3/uploader.js';
import { openDestination } from '../store/open.js';
import type { ObjectStore } from '../store/store.js';
import { readManifest } from './read.js';
import { backupView, type BackupManifest } from './view.js';

export interface OpenedBackup {
  store: ObjectStore;
  /** The table's prefix inside the store, e.g. `nightly/public.orders`. */
  prefix: string;
  manifest: BackupManifest;
  close(): void;
}

/** `s3://bucket/prefix/<schema.table>` (or `file:///dir/<schema.table>`): the store and its manifest. */
export async function openBackup(url: string, s3: S3Options = {}): Promise<OpenedBackup> {
  const dest = openDestination(url.replace(/\/+$/, ''), s3, DEFAULT_UPLOADER_OPTIONS);
  try {
    await dest.store.check();
    const manifest = backupView(await readManifest(dest.store, dest.prefix, url));
    return { store: dest.store, prefix: dest.prefix, manifest, close: () => dest.store.close() };
  } catch (e) {
    dest.store.close();
    throw e;
  }
}

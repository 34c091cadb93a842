import { fileURLToPath } from 'node:url';
import { inputError } from '../errors.js';
import type { S3Options } from '../s3/client.js';
import { parseS3Url } from '../s3/location.js';
import type { UploaderOptions } from '../s3/uploader.js';
import { LocalStore } from './local-store.js';
import { S3Store } from './s3-store.js';
import type { ObjectStore } from './store.js';

export interface Destination {
  store: ObjectStore;
  prefix: string;
}

/** `s3://bucket/prefix` or `file:///dir` → a store and the key prefix inside it. */
export function openDestination(url: string, s3: S3Options, upload: UploaderOptions): Destination {
  if (url.startsWith('file://')) {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch {
      throw inputError('DEST_URL', `--dest "${url}" is not a file URL; use file:///absolute/path`);
    }
    return { store: new LocalStore(dir.replace(/\/+$/, '') || '/'), prefix: '' };
  }
  const loc = parseS3Url(url);
  return { store: new S3Store(loc.bucket, s3, upload), prefix: loc.prefix };
}

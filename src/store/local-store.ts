import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { finished } from 'node:stream/promises';
import { inputError } from '../errors.js';
import type { UploadParams, UploadResult } from '../s3/uploader.js';
import type { ObjectStore } from './store.js';

/** A temporary file's name: `<object>.tmp-<pid>`, renamed to `<object>` when it is complete. */
const TMP = '.tmp-';

/**
 * A local directory as a store (`--dest file:///path`): for exports to a mounted volume, and
 * for measuring the export path without an S3 server. Objects are written to a temporary file
 * and renamed into place, so a reader never sees half an object.
 */
export class LocalStore implements ObjectStore {
  readonly label: string;
  constructor(readonly root: string) {
    this.label = `file://${root}`;
  }

  /**
   * The file of a key. Table folders are encoded so that no key of a backup holds a `.` or `..`
   * segment; a key that does anyway (a hand-written URL, an object synced from elsewhere) is
   * refused rather than resolved, which S3 would not do, to a file inside or outside the root. The
   * second check holds where a segment can climb by other means (`\` on Windows).
   */
  private path(key: string): string {
    const segments = key.split('/');
    if (segments.some((s) => s === '.' || s === '..'))
      throw inputError(
        'DEST_URL',
        `key "${key}" has a "." or ".." segment, which a file:// destination does not follow`,
      );
    const p = join(this.root, ...segments);
    const rel = relative(this.root, p);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw inputError('DEST_URL', `key "${key}" leads outside ${this.root}; it is not a key of this destination`);
    return p;
  }

  async check(): Promise<void> {
    const s = await stat(this.root).catch(() => undefined);
    if (!s?.isDirectory())
      throw inputError('DEST_DIR', `${this.root} is not a directory; create it first or fix --dest`);
  }

  async put(p: UploadParams): Promise<UploadResult> {
    const target = this.path(p.key);
    await mkdir(dirname(target), { recursive: true });
    // temporary files of an earlier attempt at this key (a process killed mid-write) go first
    const base = basename(target);
    for (const f of await readdir(dirname(target)))
      if (f.startsWith(`${base}${TMP}`)) await rm(join(dirname(target), f), { force: true });
    const tmp = `${target}${TMP}${process.pid}`;
    const sha = createHash('sha256');
    let bytes = 0;
    const out = createWriteStream(tmp);
    try {
      for await (const chunk of p.body) {
        sha.update(chunk);
        bytes += chunk.length;
        if (!out.write(chunk)) await once(out, 'drain');
      }
      out.end();
      await finished(out);
      await rename(tmp, target);
    } catch (e) {
      out.destroy();
      await rm(tmp, { force: true });
      throw e;
    }
    return { key: p.key, bytes, sha256: sha.digest('hex'), method: 'put' };
  }

  async delete(keys: string[]): Promise<void> {
    for (const k of keys) await rm(this.path(k), { force: true });
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return await readFile(this.path(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw inputError('NOT_FOUND', `${this.label}/${key} does not exist; check the backup location`, e);
      throw e;
    }
  }

  async *list(prefix: string): AsyncGenerator<string> {
    for (const { file, temporary } of await this.files(prefix))
      if (!temporary) yield relative(this.root, file).split(sep).join('/');
  }

  /**
   * A killed process's temporary files: a rerun rewrites those of the keys it writes again (put
   * removes them first), but not those of keys its plan no longer has (a chunked export's bounds
   * changed, or --file-max-rows). Every one goes, this process's pid too: in a container each run
   * may have the same pid, and the caller has no put under `prefix` in progress.
   */
  async removeAbandoned(prefix: string): Promise<number> {
    const abandoned = (await this.files(prefix)).filter((f) => f.temporary);
    for (const { file } of abandoned) await rm(file, { force: true });
    return abandoned.length;
  }

  private async files(prefix: string): Promise<Array<{ file: string; temporary: boolean }>> {
    const dir = this.path(prefix.replace(/\/+$/, ''));
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isFile())
      .map((e) => ({
        file: join(
          (e as unknown as { parentPath?: string; path: string }).parentPath ?? (e as unknown as { path: string }).path,
          e.name,
        ),
        temporary: e.name.includes(TMP),
      }));
  }

  close(): void {}
}

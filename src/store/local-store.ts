import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  createWriteStream,
  mkdirSync,
  type WriteStream,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { finished } from 'node:stream/promises';
import { inputError } from '../errors.js';
import type { UploadParams, UploadResult } from '../s3/uploader.js';
import type { ObjectStore } from './store.js';

/** A temporary file's name: `<object>.tmp-<pid>`, renamed to `<object>` when it is complete. */
const TMP = '.tmp-';
const OWN_TMP = `${TMP}${process.pid}`;

/**
 * An object of at most this many bytes is written and renamed with synchronous calls, a few
 * tens of microseconds on the main thread, instead of a file stream's open, write, close and
 * rename, each a hop through libuv's thread pool and back: for a small table's part file and
 * manifest those hops were ~1 ms of waiting per object.
 */
const SMALL_OBJECT = 64 * 1024;

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

  /**
   * Per folder this store has written in: the temporary files other processes had left there
   * when it first looked (not yet removed). The folder is then known to exist, and is listed
   * once per run instead of once per object; a folder it made itself holds none.
   */
  private readonly folders = new Map<string, string[]>();

  async put(p: UploadParams): Promise<UploadResult> {
    const target = this.path(p.key);
    const sha = createHash('sha256');
    const body = p.body[Symbol.asyncIterator]();
    // the head of the body: a small object ends within it
    const head: Uint8Array[] = [];
    let bytes = 0;
    let ended = false;
    try {
      while (bytes <= SMALL_OBJECT) {
        const n = await body.next();
        if (n.done) {
          ended = true;
          break;
        }
        head.push(n.value);
        bytes += n.value.length;
        sha.update(n.value);
      }
    } catch (e) {
      await body.return?.(undefined);
      throw e;
    }
    const tmp = `${target}${OWN_TMP}`;
    if (ended) {
      const data = head.length === 1 ? head[0]! : Buffer.concat(head);
      this.prepareSync(target);
      try {
        try {
          writeFileSync(tmp, data);
        } catch (e) {
          // the folder went since this store made it: make it again
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          this.folders.delete(dirname(target));
          this.prepareSync(target);
          writeFileSync(tmp, data);
        }
        renameSync(tmp, target);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
      return { key: p.key, bytes, sha256: sha.digest('hex'), method: 'put' };
    }
    let out: WriteStream | undefined;
    try {
      await this.prepare(target);
      out = createWriteStream(tmp);
      for (const chunk of head) if (!out.write(chunk)) await once(out, 'drain');
      for (let n = await body.next(); !n.done; n = await body.next()) {
        sha.update(n.value);
        bytes += n.value.length;
        if (!out.write(n.value)) await once(out, 'drain');
      }
      out.end();
      await finished(out);
      await rename(tmp, target);
    } catch (e) {
      out?.destroy();
      await body.return?.(undefined);
      await rm(tmp, { force: true });
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.folders.delete(dirname(target)); // made again next time
      throw e;
    }
    return { key: p.key, bytes, sha256: sha.digest('hex'), method: 'put' };
  }

  /** Makes the object's folder (once) and removes temporary files of an earlier attempt at this key. */
  private async prepare(target: string): Promise<void> {
    const dir = dirname(target);
    let left = this.folders.get(dir);
    if (!left) {
      // a folder made now holds nothing of an earlier process
      left = (await mkdir(dir, { recursive: true })) !== undefined ? [] : leftovers(await readdir(dir));
      this.folders.set(dir, left);
    }
    for (const f of this.leftoversOf(left, target)) await rm(join(dir, f), { force: true });
  }

  private prepareSync(target: string): void {
    const dir = dirname(target);
    let left = this.folders.get(dir);
    if (!left) {
      left = mkdirSync(dir, { recursive: true }) !== undefined ? [] : leftovers(readdirSync(dir));
      this.folders.set(dir, left);
    }
    for (const f of this.leftoversOf(left, target)) rmSync(join(dir, f), { force: true });
  }

  /** Takes the temporary files of `target`'s key out of `left`: a killed process's attempts at that key. */
  private leftoversOf(left: string[], target: string): string[] {
    const prefix = `${basename(target)}${TMP}`;
    const mine = left.filter((f) => f.startsWith(prefix));
    if (mine.length) left.splice(0, left.length, ...left.filter((f) => !f.startsWith(prefix)));
    return mine;
  }

  async delete(keys: string[]): Promise<void> {
    // unlink, not rm: rm looks at what the path is first, a second hop through the thread pool
    for (const k of keys)
      await unlink(this.path(k)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
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
    for (const { file, temporary } of await this.files(prefix)) if (!temporary) yield this.keyOf(file);
  }

  async *listSizes(prefix: string): AsyncGenerator<{ key: string; size: number }> {
    const files = (await this.files(prefix)).filter((f) => !f.temporary);
    // stat'ed together, not one after another: a backup of many tables lists as many files
    const sizes = await Promise.all(files.map((f) => stat(f.file).then((s) => s.size)));
    for (const [i, f] of files.entries()) yield { key: this.keyOf(f.file), size: sizes[i]! };
  }

  private keyOf(file: string): string {
    return relative(this.root, file).split(sep).join('/');
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
    // what put would otherwise remove again is gone (the folder once, not once per folder known:
    // a run of n tables would compute n² paths)
    const root = this.path(prefix.replace(/\/+$/, ''));
    for (const [dir, left] of this.folders) if (isUnder(dir, root)) left.length = 0;
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

/** The temporary files in a folder's listing that another process left (this one's are all in flight). */
function leftovers(names: string[]): string[] {
  return names.filter((f) => f.includes(TMP) && !f.endsWith(OWN_TMP));
}

function isUnder(dir: string, root: string): boolean {
  return dir === root || dir.startsWith(`${root}${sep}`);
}

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTableSegment } from '../../src/manifest/layout.js';
import { CLI, runCli, type CliResult } from '../helpers/cli.js';
import {
  MYSQL,
  PG,
  folderFiles,
  manifestNames,
  parquetFingerprint,
  type ChunkDb,
  type Fingerprint,
} from '../helpers/chunked.js';

/**
 * A chunked export (--parallel 2) killed with SIGKILL once it has written some of its objects,
 * then run again: with the same flags, and with others (a different plan: fewer chunks, larger
 * objects, so some of the killed run's keys are not the rerun's). Either way the rerun's objects
 * hold exactly the source's rows, its manifest names each once, and the folder holds nothing
 * else: no object or temporary file the killed run left.
 */

const ROWS = 240_000;
const TABLE = 'tv_xk';
const COLUMNS = ['id', 'n', 'pad'];
const BASE = ['--table', TABLE, '--parallel', '2'];
/** Six chunks of eight objects: killed after eight objects, the run has more than a chunk to go. */
const KILLED = [...BASE, '--chunk-rows', '40000', '--file-max-rows', '5000'];
const KILL_AFTER = 8;
const PLANS = {
  'the same flags': KILLED,
  'another plan': [...BASE, '--chunk-rows', '60000', '--file-max-rows', '20000'],
};

const PART = /^part-\d{5}-\d{5}\.parquet$/;

/** Runs an export until its folder holds `parts` finished objects, then kills it; how it ended, and the folder then. */
async function killedExport(
  db: ChunkDb,
  dest: string,
  folder: string,
  parts: number,
): Promise<{ signal: NodeJS.Signals | null; files: string[] }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  const child = spawn(process.execPath, [CLI, 'export', '--source', db.url, '--dest', dest, ...KILLED], {
    env: { ...env, TABLEVAULT_LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
  let running = true;
  void exited.then(() => (running = false));
  const done = () => existsSync(folder) && readdirSync(folder).filter((f) => PART.test(f)).length >= parts;
  while (running && !done()) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  const signal = await exited;
  return { signal, files: folderFiles(folder) };
}

interface Crash {
  signal: NodeJS.Signals | null;
  afterKill: string[];
  rerun: CliResult;
  names: string[];
  files: string[];
  source: Fingerprint;
  backup: Fingerprint;
}

describe.each(
  [PG, MYSQL].flatMap((db) => Object.entries(PLANS).map(([plan, args]) => [db.name, plan, db, args] as const)),
)('a chunked export killed and rerun (%s, %s)', (_name, plan, db, rerunArgs) => {
  const root = mkdtempSync(join(tmpdir(), 'tv-export-crash-'));
  const folder = join(root, encodeTableSegment({ schema: db.schema, name: TABLE }));
  let c: Crash;
  beforeAll(async () => {
    await db.exec(`DROP TABLE IF EXISTS ${TABLE}`);
    await db.exec(
      `CREATE TABLE ${TABLE} (id bigint PRIMARY KEY, n int NOT NULL, pad varchar(40) NOT NULL);
       INSERT INTO ${TABLE} SELECT i, i % 1000, ${db.md5('i')} FROM ${db.series(ROWS)}; ${db.analyze(TABLE)}`,
    );
    const dest = pathToFileURL(root).href;
    const killed = await killedExport(db, dest, folder, KILL_AFTER);
    const rerun = await runCli(['export', '--source', db.url, '--dest', dest, ...rerunArgs, '--json']);
    const names = rerun.code === 0 ? manifestNames(folder) : [];
    c = {
      signal: killed.signal,
      afterKill: killed.files,
      rerun,
      names,
      files: folderFiles(folder),
      source: await db.fingerprint(TABLE, COLUMNS),
      backup: await parquetFingerprint(
        names.map((n) => join(folder, n)),
        COLUMNS,
      ),
    };
  });
  afterAll(async () => {
    await db.exec(`DROP TABLE IF EXISTS ${TABLE}`);
    rmSync(root, { recursive: true, force: true });
  });

  it('the first export dies by SIGKILL', () => {
    expect(c.signal).toBe('SIGKILL');
  });

  it('the kill lands mid-export: objects written, no manifest', () => {
    expect(c.afterKill.filter((f) => PART.test(f)).length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(c.afterKill).not.toContain('_manifest.json');
  });

  it.runIf(plan === 'another plan')("the killed run left objects the rerun's plan does not have", () => {
    expect(c.afterKill.filter((f) => PART.test(f) && !c.names.includes(f))).not.toEqual([]);
  });

  it('the rerun exports the table', () => {
    expect(c.rerun.code, c.rerun.stderr).toBe(0);
  });

  it("the rerun's manifest names each object once", () => {
    expect(c.names.length).toBeGreaterThan(1);
    expect(new Set(c.names).size).toBe(c.names.length);
  });

  it('the folder holds the manifest and the objects it names, nothing the killed run left', () => {
    expect(c.files).toEqual([...c.names, '_manifest.json'].sort());
  });

  it("DuckDB reads exactly the source's rows from the rerun's objects: count, sum and hash", () => {
    expect(c.backup).toEqual(c.source);
    expect(c.source.rows).toBe(String(ROWS));
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backedUpRows, resetState } from '../helpers/backup.js';
import { CLI, runCli, type CliResult } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';

interface Served {
  child: ChildProcess;
  address: Promise<string>;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** `tablevault serve` as a child process; resolves its address from the "serving" log line. */
function startServe(file: string, env: Record<string, string> = {}): Served {
  const child = spawn(process.execPath, [CLI, 'serve', file, '--listen', '127.0.0.1:0'], {
    env: { ...process.env, TABLEVAULT_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const address = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /"listen":"([^"]+)"/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`serve exited early:\n${err}`)));
  });
  address.catch(() => {});
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, address, exited, stderr: () => err };
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const metric = (text: string, name: string) =>
  Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

/** A fresh table and a strategy file that runs every second. */
async function setup(): Promise<{ dir: string; file: string }> {
  await resetState('pg');
  await withPg((c) =>
    c.query(`DROP TABLE IF EXISTS tv_serve; CREATE TABLE tv_serve (id int PRIMARY KEY, v text, at timestamptz NOT NULL);
    INSERT INTO tv_serve SELECT g, 'v' || g, now() - interval '1 hour' + g * interval '1 ms' FROM generate_series(1, 3000) g;`),
  );
  const dir = mkdtempSync(join(tmpdir(), 'tv-serve-'));
  mkdirSync(join(dir, 'dest'));
  const file = join(dir, 'strategy.yaml');
  writeFileSync(
    file,
    `source: ${PG_URL}\ndestination: ${pathToFileURL(join(dir, 'dest')).href}\nschedule: "* * * * * *"\ntables:\n  - table: tv_serve\n    strategy: incremental\n    cursor: at\n    file_max_rows: 1000\n`,
  );
  return { dir, file };
}

/** Runs `f`, keeping its error for the `it` that needs its result (so the other properties still report). */
async function attempt<T>(f: () => Promise<T>): Promise<T | Error> {
  try {
    return await f();
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}
function ok<T>(v: T | Error | undefined): T {
  if (v instanceof Error) throw v;
  if (v === undefined) throw new Error('the scenario did not get this far');
  return v;
}

describe('serve', () => {
  describe('on its schedule', () => {
    let served: Served | undefined;
    let health: { status: string } | Error;
    let text: string | Error | undefined;
    let newRows: true | Error | undefined;
    let exitCode: number | null | undefined;
    beforeAll(async () => {
      const { file } = await setup();
      served = startServe(file);
      const base = `http://${await served.address}`;
      health = await attempt(async () => (await (await fetch(`${base}/healthz`)).json()) as { status: string });
      text = await attempt(() =>
        waitFor('two runs', async () => {
          const t = await (await fetch(`${base}/metrics`)).text();
          return metric(t, 'tablevault_runs_total{outcome="ok"}') >= 2 ? t : undefined;
        }),
      );
      // new rows are picked up by a later scheduled run
      await withPg((c) => c.query("INSERT INTO tv_serve SELECT g, 'late', now() FROM generate_series(3001, 3010) g"));
      newRows = await attempt(() =>
        waitFor('the new rows', async () =>
          metric(await (await fetch(`${base}/metrics`)).text(), 'tablevault_rows_total{table="tv_serve"}') === 3010
            ? (true as const)
            : undefined,
        ),
      );
      served.child.kill('SIGTERM');
      exitCode = await served.exited;
    });
    afterAll(() => {
      served?.child.kill('SIGKILL');
    });

    it('/healthz answers ok', () => {
      expect(ok(health).status).toBe('ok');
    });

    it('runs on its schedule: two runs complete', () => {
      expect(metric(ok(text), 'tablevault_runs_total{outcome="ok"}')).toBeGreaterThanOrEqual(2);
    });

    it('never runs two at once: the rows and objects are counted once', () => {
      expect(metric(ok(text), 'tablevault_rows_total{table="tv_serve"}')).toBe(3000);
      expect(metric(ok(text), 'tablevault_objects_total{table="tv_serve"}')).toBe(3);
    });

    it('/metrics gives the time of the last success', () => {
      expect(metric(ok(text), 'tablevault_last_success_timestamp_seconds{table="tv_serve"}')).toBeGreaterThan(
        Date.now() / 1000 - 60,
      );
    });

    it('/metrics gives the watermark lag', () => {
      expect(metric(ok(text), 'tablevault_watermark_lag_seconds{table="tv_serve"}')).toBeGreaterThan(3000); // the newest row is ~1 h old
    });

    it('a later scheduled run picks up new rows', () => {
      expect(ok(newRows)).toBe(true);
    });

    it('SIGTERM exits 0', () => {
      expect(exitCode).toBe(0);
    });
  });

  describe('SIGTERM in the middle of a run', () => {
    let served: Served | undefined;
    let firstObject: true | Error;
    let exitCode: number | null;
    let stderr: string;
    let entries: string[];
    let state: { files: string; rows: string } | undefined;
    let rest: CliResult;
    let rows: Array<Record<string, unknown>>;
    beforeAll(async () => {
      const { dir, file } = await setup();
      // every object's upload is held 1.5 s before its commit: the signal lands mid-run
      served = startServe(file, { TABLEVAULT_TEST_PAUSE_AT: 'after-upload:1500' });
      await served.address;
      const tableDir = join(dir, 'dest', 'public.tv_serve');
      firstObject = await attempt(() =>
        waitFor('the first object', async () =>
          readdirSync(tableDir).some((f) => f.startsWith('incr-')) ? (true as const) : undefined,
        ),
      );
      served.child.kill('SIGTERM');
      exitCode = await served.exited;
      stderr = served.stderr();
      entries = readdirSync(tableDir);
      [state] = await withPg(
        async (c) =>
          (await c.query('SELECT files, rows FROM tablevault_tables')).rows as Array<{ files: string; rows: string }>,
      );
      rest = await runCli(['backup', file]);
      rows = await backedUpRows(join(dir, 'dest'), 'public.tv_serve');
    });
    afterAll(() => {
      served?.child.kill('SIGKILL');
    });
    const objects = () => entries.filter((f) => f.startsWith('incr-'));

    it('the run had stored its first object when the signal came', () => {
      expect(ok(firstObject)).toBe(true);
    });

    it('exits 0, saying it finishes or abandons the current batch', () => {
      expect(exitCode).toBe(0);
      expect(stderr).toMatch(/stopping: finishing or abandoning the current batch/);
    });

    it('committed objects stand, and the run stopped before its end', () => {
      expect(objects().length).toBeGreaterThanOrEqual(1);
      expect(objects().length).toBeLessThan(3);
    });

    it('leaves nothing half-written', () => {
      expect(entries.filter((f) => !f.startsWith('incr-') && f !== '_manifest.json')).toEqual([]); // no temporary files left
    });

    it('the watermark is at an object that is there', () => {
      expect(Number(state!.files)).toBe(objects().length);
      expect(Number(state!.rows)).toBe(objects().length * 1000);
    });

    it('the next run succeeds', () => {
      expect(rest.code, rest.stderr).toBe(0);
    });

    it('after the next run every row is backed up once: none lost, none twice', () => {
      expect(rows).toHaveLength(3000);
      expect(new Set(rows.map((r) => r.id)).size).toBe(3000);
    });
  });
});

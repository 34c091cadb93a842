import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backedUpRows, resetState } from '../helpers/backup.js';
import { CLI, runCli } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';

interface Served { child: ChildProcess; address: Promise<string>; exited: Promise<number | null>; stderr: () => string }

/** `tablevault serve` as a child process; resolves its address from the "serving" log line. */
function startServe(file: string, env: Record<string, string> = {}): Served {
  const child = spawn(process.execPath, [CLI, 'serve', file, '--listen', '127.0.0.1:0'], { env: { ...process.env, TABLEVAULT_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

const metric = (text: string, name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('serve', () => {
  let served: Served | undefined;
  let dir: string;
  let file: string;
  beforeEach(async () => {
    await resetState('pg');
    await withPg((c) => c.query(`DROP TABLE IF EXISTS tv_serve; CREATE TABLE tv_serve (id int PRIMARY KEY, v text, at timestamptz NOT NULL);
      INSERT INTO tv_serve SELECT g, 'v' || g, now() - interval '1 hour' + g * interval '1 ms' FROM generate_series(1, 3000) g;`));
    dir = mkdtempSync(join(tmpdir(), 'tv-serve-'));
    mkdirSync(join(dir, 'dest'));
    file = join(dir, 'strategy.yaml');
    writeFileSync(file, `source: ${PG_URL}\ndestination: ${pathToFileURL(join(dir, 'dest')).href}\nschedule: "* * * * * *"\ntables:\n  - table: tv_serve\n    strategy: incremental\n    cursor: at\n    file_max_rows: 1000\n`);
  });
  afterEach(() => { served?.child.kill('SIGKILL'); served = undefined; });

  it('runs on its schedule, never two at once; /healthz and /metrics reflect the runs; SIGTERM exits 0', async () => {
    served = startServe(file);
    const base = `http://${await served.address}`;
    const health = await (await fetch(`${base}/healthz`)).json() as { status: string };
    expect(health.status).toBe('ok');
    const text = await waitFor('two runs', async () => {
      const t = await (await fetch(`${base}/metrics`)).text();
      return metric(t, 'tablevault_runs_total{outcome="ok"}') >= 2 ? t : undefined;
    });
    expect(metric(text, 'tablevault_rows_total{table="tv_serve"}')).toBe(3000);
    expect(metric(text, 'tablevault_objects_total{table="tv_serve"}')).toBe(3);
    expect(metric(text, 'tablevault_last_success_timestamp_seconds{table="tv_serve"}')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(metric(text, 'tablevault_watermark_lag_seconds{table="tv_serve"}')).toBeGreaterThan(3000); // the newest row is ~1 h old
    // new rows are picked up by a later scheduled run
    await withPg((c) => c.query("INSERT INTO tv_serve SELECT g, 'late', now() FROM generate_series(3001, 3010) g"));
    await waitFor('the new rows', async () => (metric(await (await fetch(`${base}/metrics`)).text(), 'tablevault_rows_total{table="tv_serve"}') === 3010 ? true : undefined));
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
  });

  it('SIGTERM in the middle of a run: committed objects and the watermark stand, nothing half-written; the next run completes exactly', async () => {
    // every object's upload is held 1.5 s before its commit: the signal lands mid-run
    served = startServe(file, { TABLEVAULT_TEST_PAUSE_AT: 'after-upload:1500' });
    await served.address;
    const tableDir = join(dir, 'dest', 'public.tv_serve');
    await waitFor('the first object', async () => (readdirSync(tableDir).some((f) => f.startsWith('incr-')) ? true : undefined));
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    expect(served.stderr()).toMatch(/stopping: finishing or abandoning the current batch/);
    const objects = readdirSync(tableDir).filter((f) => f.startsWith('incr-'));
    expect(objects.length).toBeGreaterThanOrEqual(1);
    expect(objects.length).toBeLessThan(3);
    expect(readdirSync(tableDir).filter((f) => !f.startsWith('incr-') && f !== '_manifest.json')).toEqual([]); // no temporary files left
    // the watermark is at an object that is there
    const [state] = await withPg(async (c) => (await c.query("SELECT files, rows FROM tablevault_tables")).rows as Array<{ files: string; rows: string }>);
    expect(Number(state!.files)).toBe(objects.length);
    expect(Number(state!.rows)).toBe(objects.length * 1000);

    const rest = await runCli(['backup', file]);
    expect(rest.code, rest.stderr).toBe(0);
    const rows = await backedUpRows(join(dir, 'dest'), 'public.tv_serve');
    expect(rows).toHaveLength(3000); // none lost, none twice
    expect(new Set(rows.map((r) => r.id)).size).toBe(3000);
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** Keeps `npm run bench` working: a 10k-row run of every case. It checks shape, never speed. */
describe('bench harness (smoke)', () => {
  it('runs every baseline and tablevault case and writes the JSON results', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tv-bench-smoke-'));
    try {
      const main = fileURLToPath(new URL('../../dist-bench/main.js', import.meta.url));
      const { stdout } = await promisify(execFile)(process.execPath, [
        main,
        '--rows',
        '10000',
        '--repeat',
        '1',
        '--out',
        out,
      ]);
      expect(stdout).toMatch(/ratios \(tablevault \/ baseline/);
      const [file] = readdirSync(out);
      const json = JSON.parse(readFileSync(join(out, file!), 'utf8')) as {
        rows: number;
        results: Array<{
          engine: string;
          name: string;
          wallMs: number;
          serverCpuMs: number;
          bytes: number;
          peakRssBytes: number;
        }>;
      };
      expect(json.rows).toBe(10000);
      expect(json.results.map((r) => `${r.engine}:${r.name}`)).toEqual([
        'pg:read',
        'pg:dump_gzip',
        'pg:tv_local',
        'pg:tv_s3',
        'mysql:read',
        'mysql:dump_gzip',
        'mysql:tv_local',
        'mysql:tv_s3',
      ]);
      for (const r of json.results) {
        expect(r.wallMs).toBeGreaterThan(0);
        expect(r.peakRssBytes).toBeGreaterThan(0);
        if (r.name !== 'read') expect(r.bytes).toBeGreaterThan(0);
        expect(r.serverCpuMs).toBeGreaterThanOrEqual(0);
      }
      // each engine's server did work for its cases (the clock ticks are 10 ms, so not per case)
      for (const engine of ['pg', 'mysql']) {
        expect(json.results.filter((r) => r.engine === engine).reduce((n, r) => n + r.serverCpuMs, 0)).toBeGreaterThan(
          0,
        );
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
  it('--restore times every restore case and writes the JSON results', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tv-bench-smoke-'));
    try {
      const main = fileURLToPath(new URL('../../dist-bench/main.js', import.meta.url));
      const { stdout } = await promisify(execFile)(process.execPath, [
        main,
        '--restore',
        '--rows',
        '10000',
        '--repeat',
        '1',
        '--out',
        out,
      ]);
      expect(stdout).toMatch(/ratios \(tablevault restore \/ the dump tool/);
      const [file] = readdirSync(out);
      const json = JSON.parse(readFileSync(join(out, file!), 'utf8')) as {
        rows: number;
        node: string;
        results: Array<{ engine: string; name: string; wallMs: number; peakRssBytes: number; rowsPerSec: number }>;
      };
      expect(json.rows).toBe(10000);
      expect(json.node).toBe(process.version);
      expect(json.results.map((r) => `${r.engine}:${r.name}`)).toEqual([
        'pg:dump_restore',
        'pg:tv_restore',
        'pg:dump_restore_j2',
        'pg:tv_restore_j2',
        'mysql:dump_restore',
        'mysql:tv_restore',
        'mysql:tv_restore_j2',
      ]);
      for (const r of json.results) {
        expect(r.wallMs).toBeGreaterThan(0);
        expect(r.peakRssBytes).toBeGreaterThan(0);
        expect(r.rowsPerSec).toBeGreaterThan(0);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
  it('--database backs up a small generated schema with every tool and reports the fixed cost per table', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tv-bench-smoke-'));
    try {
      const main = fileURLToPath(new URL('../../dist-bench/main.js', import.meta.url));
      // a schema of its own, so the smoke test never rewrites the bench's tvbench
      const args = ['--database', '--mix', '1x1000,3x0,3x1-100', '--schema', 'tvbench_smoke', '--repeat', '1'];
      const { stdout } = await promisify(execFile)(process.execPath, [main, ...args, '--out', out]);
      expect(stdout).toMatch(/ms CPU per table over 6 tables/);
      const [file] = readdirSync(out);
      const json = JSON.parse(readFileSync(join(out, file!), 'utf8')) as {
        results: Array<{ engine: string; name: string; tables: number; bytes: number }>;
        fixedCost: Array<{ engine: string; tables: number }>;
      };
      expect(json.results.map((r) => `${r.engine}:${r.name}:${r.tables}`)).toEqual([
        'pg:tv_whole:7',
        'pg:pg_dump_whole:7',
        'pg:tv_small:6',
        'pg:pg_dump_small:6',
        'pg:tv_one:1',
        'mysql:tv_whole:7',
        'mysql:mydumper_whole:7',
        'mysql:mysqldump_whole:7',
        'mysql:tv_small:6',
        'mysql:mydumper_small:6',
        'mysql:tv_one:1',
      ]);
      for (const r of json.results) expect(r.bytes).toBeGreaterThan(0);
      expect(json.fixedCost.map((f) => `${f.engine}:${f.tables}`)).toEqual(['pg:6', 'mysql:6']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
  it('--restore-database restores a small generated schema with every tool and writes the JSON results', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tv-bench-smoke-'));
    try {
      const main = fileURLToPath(new URL('../../dist-bench/main.js', import.meta.url));
      // the --database smoke test's schema: the bench's tvbench is never rewritten
      const mix = ['--mix', '1x1000,3x0,3x1-100', '--schema', 'tvbench_smoke'];
      const args = ['--restore-database', ...mix, '--repeat', '1'];
      const { stdout } = await promisify(execFile)(process.execPath, [main, ...args, '--out', out]);
      expect(stdout).toMatch(/ratios \(tablevault restore \/ the dump tool/);
      const [file] = readdirSync(out);
      const json = JSON.parse(readFileSync(join(out, file!), 'utf8')) as {
        rows: number;
        results: Array<{ engine: string; name: string; tables: number; wallMs: number; peakRssBytes: number }>;
      };
      expect(json.rows).toBe(1060);
      expect(json.results.map((r) => `${r.engine}:${r.name}:${r.tables}`)).toEqual([
        'pg:tv_restore:7',
        'pg:dump_restore:7',
        'mysql:tv_restore:7',
        'mysql:dump_restore:7',
      ]);
      for (const r of json.results) expect(r.peakRssBytes).toBeGreaterThan(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
  it('--chunks reads the bench table in each count of chunks with every tool (export, incremental backfill, the dump tool) and writes the JSON results', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tv-bench-smoke-'));
    try {
      const main = fileURLToPath(new URL('../../dist-bench/main.js', import.meta.url));
      const args = ['--chunks', '--rows', '10000', '--counts', '1,2', '--repeat', '1', '--out', out];
      const { stdout } = await promisify(execFile)(process.execPath, [main, ...args]);
      expect(stdout).toMatch(/ratios \(tablevault export --parallel K/);
      const [file] = readdirSync(out);
      const json = JSON.parse(readFileSync(join(out, file!), 'utf8')) as {
        results: Array<{ engine: string; name: string; chunks: number; bytes: number }>;
      };
      expect(json.results.map((r) => `${r.engine}:${r.name}:${r.chunks}`)).toEqual([
        'pg:tablevault_1:1',
        'pg:tablevault_backup_1:1',
        'pg:pg_dump_1:1',
        'pg:tablevault_2:2',
        'pg:tablevault_backup_2:2',
        'pg:pg_dump_2:1',
        'mysql:tablevault_1:1',
        'mysql:tablevault_backup_1:1',
        'mysql:mydumper_1:1',
        'mysql:tablevault_2:2',
        'mysql:tablevault_backup_2:2',
        'mysql:mydumper_2:2',
      ]);
      for (const r of json.results) expect(r.bytes).toBeGreaterThan(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

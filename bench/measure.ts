import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measurement {
  wallMs: number;
  cpuMs: number;
  /**
   * CPU the database server spent meanwhile (its backend or threads serving the command), when
   * measure() was told the server's process names. On a 2-core machine it shares the cores with
   * the command, so (cpuMs + serverCpuMs) / cores is a floor under the wall time.
   */
  serverCpuMs?: number;
  /** Peak of the summed RSS of every process in the command's process group. */
  peakRssBytes: number;
  stdout: string;
  exitCode: number;
}

/** The database servers' process names, whose CPU each case also costs (see Measurement.serverCpuMs). */
export const SERVER_PROCESSES: Record<string, readonly string[]> = { pg: ['postgres'], mysql: ['mariadbd', 'mysqld'] };

const PAGE = 4096;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * utime + stime + cutime + cstime, in ms, summed over the processes named `names` (e.g.
 * postgres, whose postmaster's cutime takes in each backend that has exited and been reaped).
 */
function serverCpu(names: readonly string[]): number {
  let ticks = 0;
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!names.includes(comm)) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      /* the process ended while we looked */
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/** The server's CPU once it has settled: a backend may still be exiting, and counts once reaped. */
async function settledServerCpu(names: readonly string[]): Promise<number> {
  let last = serverCpu(names);
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = serverCpu(names);
    if (now === last) break;
    last = now;
  }
  return last;
}

/** Sum of RSS over the processes whose process group is `pgid`. */
function groupRss(pgid: number): number {
  let total = 0;
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) total += Number(fields[21]) * PAGE; // pgrp, rss (pages)
    } catch {
      /* the process ended while we looked */
    }
  }
  return total;
}

/**
 * Runs a shell command in its own process group under /usr/bin/time: wall time from here, CPU
 * (user + system of the whole tree, as the shell waits for every pipeline member) from time(1),
 * and peak RSS of the tree by sampling /proc every 20 ms (never below time(1)'s largest process).
 * With `serverProcesses` (process names, e.g. ['postgres']), also the CPU those processes spent
 * meanwhile: nothing else should use that server during the run.
 */
export async function measure(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
  serverProcesses?: readonly string[],
): Promise<Measurement> {
  const server0 = serverProcesses ? await settledServerCpu(serverProcesses) : 0;
  const m = await run(command, env);
  if (serverProcesses) m.serverCpuMs = (await settledServerCpu(serverProcesses)) - server0;
  return m;
}

function run(command: string, env: NodeJS.ProcessEnv): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'tv-bench-time-'));
  const timeFile = join(dir, 'time');
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, 'bash', '-o', 'pipefail', '-c', command], {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let peak = 0;
    const timer = setInterval(() => {
      if (child.pid) peak = Math.max(peak, groupRss(child.pid));
    }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      let cpuMs = NaN;
      try {
        const [u, s, maxKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        cpuMs = (u! + s!) * 1000;
        // a command shorter than the sampling interval: the largest single process is the floor
        peak = Math.max(peak, maxKb! * 1024);
      } catch {
        /* time(1) wrote nothing */
      }
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) {
        reject(new Error(`command failed (exit ${code}): ${command}\n${stderr.slice(-2000)}`));
        return;
      }
      resolve({ wallMs, cpuMs, peakRssBytes: peak, stdout, exitCode: code ?? 0 });
    });
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One case's runs of a table bench (export, restore), each as measured. */
export interface CaseRun {
  wallMs: number;
  cpuMs: number;
  serverCpuMs: number;
  peakRssBytes: number;
}

/** Medians of a case's runs (peak RSS: the highest of them), and rows/s at the median wall. */
export function summarizeRuns<R extends CaseRun>(runs: R[], rows: number) {
  const wallMs = median(runs.map((x) => x.wallMs));
  return {
    runs,
    wallMs,
    cpuMs: median(runs.map((x) => x.cpuMs)),
    serverCpuMs: median(runs.map((x) => x.serverCpuMs)),
    peakRssBytes: Math.max(...runs.map((x) => x.peakRssBytes)),
    rowsPerSec: Math.round(rows / (wallMs / 1000)),
  };
}

/** The rows of a text table, each column padded to its widest cell. */
export function alignedTable(header: string[], body: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  return [header, ...body].map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
}

/** os.loadavg() as a report prints it: "1.02 0.87 0.75". */
export function formatLoad(load: number[]): string {
  return load.map((x) => x.toFixed(2)).join(' ');
}

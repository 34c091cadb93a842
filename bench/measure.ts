import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measurement {
  wallMs: number;
  cpuMs: number;
  /** Peak of the summed RSS of every process in the command's process group. */
  peakRssBytes: number;
  stdout: string;
  exitCode: number;
}

const PAGE = 4096;

/** Sum of RSS over the processes whose process group is `pgid`. */
function groupRss(pgid: number): number {
  let total = 0;
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) total += Number(fields[21]) * PAGE; // pgrp, rss (pages)
    } catch { /* the process ended while we looked */ }
  }
  return total;
}

/**
 * Runs a shell command in its own process group under /usr/bin/time: wall time from here, CPU
 * (user + system of the whole tree, as the shell waits for every pipeline member) from time(1),
 * and peak RSS of the tree by sampling /proc every 20 ms (never below time(1)'s largest process).
 */
export function measure(command: string, env: NodeJS.ProcessEnv = process.env): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'tv-bench-time-'));
  const timeFile = join(dir, 'time');
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, 'bash', '-o', 'pipefail', '-c', command], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    let peak = 0;
    const timer = setInterval(() => { if (child.pid) peak = Math.max(peak, groupRss(child.pid)); }, 20);
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
      } catch { /* time(1) wrote nothing */ }
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

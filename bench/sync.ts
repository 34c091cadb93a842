/**
 * `npm run bench -- --sync`: tablevault sync against `aws s3 sync` and `rclone sync`, bucket to
 * bucket on one S3 server, for 1,000 × 64 KiB objects and for 4 × 256 MiB objects. Every tool talks
 * through a counting proxy, so requests per object are measured the same way for all. tablevault
 * runs twice: as it chooses on one endpoint (server-side copies) and `--copy-mode streamed` (what it
 * does across endpoints). Round-robin, median of --repeat runs.
 *
 * The server: TABLEVAULT_BENCH_S3_ENDPOINT with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (e.g. Ceph
 * RGW), else s3rver in its own process (which lacks UploadPartCopy: aws s3 sync then fails on the
 * large objects, and the table says so).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DEFAULT_UPLOADER_OPTIONS, Uploader } from '../dist/index.js';
import { measure, median, type Measurement } from './measure.js';
import { startCountingProxy } from './proxy.js';

const MiB = 1024 * 1024;
const log = (s: string) => process.stderr.write(`${s}\n`);

export interface SyncBenchArgs {
  repeat: number;
  out: string;
  root: string;
  startS3: (dir: string) => Promise<{ endpoint: string; stop: () => void }>;
}

interface Dataset {
  name: string;
  count: number;
  size: number;
}
const DATASETS: Dataset[] = [
  { name: '1000 x 64 KiB', count: 1000, size: 64 * 1024 },
  { name: '4 x 256 MiB', count: 4, size: 256 * MiB },
];

/** Debian's awscli and rclone, installed when missing (the bench machine may install packages). */
function ensureTools(): { aws: boolean; rclone: boolean } {
  const has = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
  const missing = ['rclone', 'aws'].filter((c) => !has(c)).map((c) => (c === 'aws' ? 'awscli' : c));
  if (missing.length) {
    log(`installing ${missing.join(', ')} (apt-get)…`);
    const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
    spawnSync('sh', ['-c', `${sudo}apt-get install -y -qq --no-install-recommends ${missing.join(' ')}`], {
      stdio: 'inherit',
    });
  }
  return { aws: has('aws'), rclone: has('rclone') };
}

async function emptyPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  for (;;) {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const keys = (r.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) return;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
}

async function seed(client: S3Client, bucket: string, d: Dataset, prefix: string): Promise<void> {
  log(`seeding ${d.name} into s3://${bucket}/${prefix}…`);
  let i = 0;
  const one = async (n: number) => {
    const key = `${prefix}/obj-${String(n).padStart(5, '0')}.bin`;
    if (d.size <= 16 * MiB)
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(d.size) }));
    else
      await new Uploader(client, bucket, DEFAULT_UPLOADER_OPTIONS).upload({
        key,
        body: (async function* () {
          for (let at = 0; at < d.size; at += 16 * MiB) yield randomBytes(16 * MiB);
        })(),
      });
  };
  await Promise.all(
    Array.from({ length: Math.min(16, d.count) }, async () => {
      while (i < d.count) await one(i++);
    }),
  );
}

export async function syncBench(a: SyncBenchArgs): Promise<void> {
  const tools = ensureTools();
  const work = mkdtempSync(join(os.tmpdir(), 'tv-bench-sync-'));
  const external = process.env.TABLEVAULT_BENCH_S3_ENDPOINT;
  const server = external ? { endpoint: external, stop: () => {} } : await a.startS3(join(work, 's3'));
  const creds = external
    ? {
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? '',
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      }
    : { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
  const proxy = await startCountingProxy(server.endpoint);
  const env = {
    ...process.env,
    ...creds,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: proxy.endpoint,
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
    RCLONE_CONFIG_BENCH_ENDPOINT: proxy.endpoint,
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: creds.AWS_ACCESS_KEY_ID,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: creds.AWS_SECRET_ACCESS_KEY,
    RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
  };
  // a CA bundle in the environment (this machine has one) makes rclone refuse its plain-HTTP client; the endpoint is http anyway
  delete (env as NodeJS.ProcessEnv).AWS_CA_BUNDLE;
  const client = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: creds.AWS_ACCESS_KEY_ID, secretAccessKey: creds.AWS_SECRET_ACCESS_KEY },
  });
  const src = `bench-sync-src-${Date.now()}`;
  const dst = `bench-sync-dst-${Date.now()}`;
  const cli = join(a.root, 'dist', 'cli.js');
  const results: Array<{
    dataset: string;
    tool: string;
    ok: boolean;
    wallMs: number;
    cpuMs: number;
    peakRssBytes: number;
    requestsPerObject: number;
    objectsPerSec: number;
    mbPerSec: number;
  }> = [];
  // what a short run pays before any request: Node itself, then the bin loading its first command
  const startup: Record<string, number> = {};
  for (const [name, cmd] of [
    ['node -e 0', 'node -e 0'],
    ['tablevault --version', `${cli} --version`],
  ] as const) {
    const ms: number[] = [];
    for (let r = 0; r < 5; r++) ms.push((await measure(cmd, env)).wallMs);
    startup[name] = median(ms);
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: src }));
    await client.send(new CreateBucketCommand({ Bucket: dst }));
    for (const [di, d] of DATASETS.entries()) {
      const from = `d${di}`;
      await seed(client, src, d, from);
      // the bin as users run it: its shebang's Node flags and malloc settings apply (`node dist/cli.js` would drop them)
      const cases = [
        {
          tool: 'tablevault sync',
          cmd: (to: string) => `${cli} --log-level warn sync s3://${src}/${from} s3://${dst}/${to}`,
        },
        {
          tool: 'tablevault sync --copy-mode streamed',
          cmd: (to: string) =>
            `${cli} --log-level warn sync s3://${src}/${from} s3://${dst}/${to} --copy-mode streamed`,
        },
        ...(tools.aws
          ? [
              {
                tool: 'aws s3 sync',
                cmd: (to: string) =>
                  `aws s3 sync s3://${src}/${from} s3://${dst}/${to} --endpoint-url ${proxy.endpoint} --only-show-errors`,
              },
            ]
          : []),
        ...(tools.rclone
          ? [
              {
                tool: 'rclone sync',
                cmd: (to: string) => `rclone sync bench:${src}/${from} bench:${dst}/${to} --transfers 16 --checkers 16`,
              },
            ]
          : []),
      ];
      const runs = new Map(cases.map((c) => [c.tool, [] as Array<Measurement & { requests: number }>]));
      for (let r = 0; r < a.repeat; r++) {
        for (const [ci, c] of cases.entries()) {
          const to = `r${r}-c${ci}`;
          log(`[${r + 1}/${a.repeat}] ${d.name}: ${c.tool}`);
          proxy.reset();
          let m: Measurement;
          try {
            m = await measure(c.cmd(to), env);
          } catch (e) {
            log(
              `  failed: ${String((e as Error).message)
                .split('\n')
                .slice(0, 3)
                .join(' / ')}`,
            );
            m = { wallMs: NaN, cpuMs: NaN, peakRssBytes: NaN, stdout: '', exitCode: 1 };
          }
          runs.get(c.tool)!.push({ ...m, requests: proxy.count() });
          await emptyPrefix(client, dst, `${to}/`);
        }
      }
      for (const c of cases) {
        const ms = runs.get(c.tool)!;
        const ok = ms.every((m) => m.exitCode === 0);
        const wallMs = median(ms.map((m) => m.wallMs));
        results.push({
          dataset: d.name,
          tool: c.tool,
          ok,
          wallMs,
          cpuMs: median(ms.map((m) => m.cpuMs)),
          peakRssBytes: Math.max(...ms.map((m) => m.peakRssBytes)),
          requestsPerObject: median(ms.map((m) => m.requests)) / d.count,
          objectsPerSec: d.count / (wallMs / 1000),
          mbPerSec: (d.count * d.size) / 1e6 / (wallMs / 1000),
        });
      }
      await emptyPrefix(client, src, `${from}/`);
    }
  } finally {
    client.destroy();
    await proxy.stop();
    server.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const lines = [
    `bucket-to-bucket sync on ${external ?? 's3rver'} (one endpoint), median of ${a.repeat}; requests counted at a proxy`,
    `start-up, median of 5: ${Object.entries(startup)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(3)} s`)
      .join(', ')}`,
    '',
  ];
  lines.push(
    [
      'dataset'.padEnd(14),
      'tool'.padEnd(37),
      'wall s'.padStart(7),
      'objects/s'.padStart(10),
      'MB/s'.padStart(8),
      'req/object'.padStart(11),
      'cpu s'.padStart(7),
      'peak RSS MB'.padStart(12),
    ].join(' '),
  );
  for (const r of results) {
    lines.push(
      [
        r.dataset.padEnd(14),
        r.tool.padEnd(37),
        r.ok ? (r.wallMs / 1000).toFixed(2).padStart(7) : 'failed'.padStart(7),
        r.ok ? r.objectsPerSec.toFixed(1).padStart(10) : '-'.padStart(10),
        r.ok ? r.mbPerSec.toFixed(1).padStart(8) : '-'.padStart(8),
        r.requestsPerObject.toFixed(2).padStart(11),
        r.ok ? (r.cpuMs / 1000).toFixed(2).padStart(7) : '-'.padStart(7),
        r.ok ? (r.peakRssBytes / 1e6).toFixed(1).padStart(12) : '-'.padStart(12),
      ].join(' '),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(a.out, { recursive: true });
  const file = join(a.out, `sync-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), endpoint: external ?? 's3rver', repeat: a.repeat, startup, results }, null, 2)}\n`,
  );
  log(`results: ${file}`);
}

/**
 * `npm run bench`: tablevault's export against what users do today and against the database's
 * own read speed, side by side in one run, on the same tables. Prints a table and writes the
 * same as JSON to bench/results/. It never passes or fails.
 *
 *   npm run bench -- [--rows 1000000[,4000000]] [--repeat 3] [--engines pg,mysql] [--codecs zstd[,lz4_raw,…]]
 *                    [--out bench/results]
 *   npm run bench -- --database …   a whole-database backup (bench/database.ts)
 *   npm run bench -- --restore-database …   a whole-database restore (bench/restore-database.ts)
 *   npm run bench -- --chunks …     the 4M table read in 1, 2 and 4 chunks (bench/chunks.ts)
 *
 * Each row count is its own table and its own report (and JSON file), in the same run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SERVER_PROCESSES, alignedTable, measure, median, summarizeRuns, type Measurement } from './measure.js';
import { chunksBench } from './chunks.js';
import { databaseBench } from './database.js';
import { restoreBench } from './restore.js';
import { restoreDatabaseBench } from './restore-database.js';
import { syncBench } from './sync.js';
import { benchTableName, ensureMysqlTable, ensurePgTable } from './tables.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const CLI = join(root, 'dist', 'cli.js');

interface Args {
  rows: number[];
  /** Parquet codecs of the `tablevault export → local dir` case (the S3 case writes the default). */
  codecs: string[];
  repeat: number;
  engines: string[];
  out: string;
  upload?: number;
  sync?: boolean;
  restore?: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    rows: [1_000_000],
    codecs: ['zstd'],
    repeat: 3,
    engines: ['pg', 'mysql'],
    out: join(root, 'bench', 'results'),
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--rows':
        a.rows = v!.split(',').map(Number);
        i++;
        break;
      case '--codecs':
        a.codecs = v!.split(',');
        i++;
        break;
      case '--repeat':
        a.repeat = Number(v);
        i++;
        break;
      case '--engines':
        a.engines = v!.split(',');
        i++;
        break;
      case '--out':
        a.out = resolve(v!);
        i++;
        break;
      case '--upload':
        a.upload = Number(v);
        i++;
        break;
      case '--sync':
        a.sync = true;
        break;
      case '--restore':
        a.restore = true;
        break;
      default:
        throw new Error(
          `unknown argument ${argv[i]}; use --rows N[,N…] --repeat N --engines pg,mysql --codecs zstd[,lz4_raw…] --out DIR, or --upload SIZE_MIB, or --sync, or --restore, or --database (see bench/database.ts), or --restore-database (see bench/restore-database.ts), or --chunks (see bench/chunks.ts)`,
        );
    }
  }
  if (a.rows.some((r) => !Number.isInteger(r) || r < 1) || !Number.isInteger(a.repeat) || a.repeat < 1)
    throw new Error('--rows and --repeat take whole numbers');
  // the codec names are tablevault's `--compression` values: an unknown one fails its first run
  return a;
}

const log = (s: string) => process.stderr.write(`${s}\n`);
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * s3rver in its own process, so the S3 side does not share tablevault's event loop; with OpenSSL's
 * legacy provider, because it encrypts listing continuation tokens with DES.
 */
async function startS3(dir: string): Promise<{ endpoint: string; stop: () => void }> {
  const script = `import S3rver from 's3rver';
    const s = new S3rver({ address: '127.0.0.1', port: 0, directory: ${JSON.stringify(dir)}, silent: true });
    const { port } = await s.run(); process.stdout.write(port + '\\n');`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--input-type=module', '-e', script], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((res, rej) => {
    child.stdout.once('data', (d: Buffer) => res(d.toString().trim()));
    child.once('exit', (c) => rej(new Error(`s3rver exited ${c}`)));
  });
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

interface Case {
  engine: string;
  name: string;
  label: string;
  command: string;
  bytes: (m: Measurement) => number;
  env?: NodeJS.ProcessEnv;
}

function pgCases(
  url: string,
  table: string,
  work: string,
  s3env: NodeJS.ProcessEnv,
  bucket: string,
  codecs: string[],
): Case[] {
  const u = new URL(url);
  const conn = `-h ${u.hostname} -p ${u.port || 5432} -U ${decodeURIComponent(u.username) || 'postgres'} -d ${u.pathname.slice(1)}`;
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(u.password) };
  const dump = join(work, 'pg.sql.gz');
  return [
    {
      engine: 'pg',
      name: 'read',
      label: 'psql COPY TO STDOUT > /dev/null',
      command: `psql ${conn} -c ${sh(`COPY ${table} TO STDOUT`)} > /dev/null`,
      bytes: () => 0,
      env,
    },
    {
      engine: 'pg',
      name: 'dump_gzip',
      label: 'pg_dump -t | gzip -1',
      command: `pg_dump ${conn} -t ${table} | gzip -1 > ${dump}`,
      bytes: () => statSync(dump).size,
      env,
    },
    ...tvCases('pg', url, table, work, s3env, bucket, codecs),
  ];
}

function mysqlCases(
  url: string,
  table: string,
  work: string,
  s3env: NodeJS.ProcessEnv,
  bucket: string,
  codecs: string[],
): Case[] {
  const u = new URL(url);
  const conn = `-h ${u.hostname} -P ${u.port || 3306} -u ${decodeURIComponent(u.username)}`;
  const env = { ...process.env, MYSQL_PWD: decodeURIComponent(u.password) };
  const db = u.pathname.slice(1);
  const dump = join(work, 'mysql.sql.gz');
  return [
    {
      engine: 'mysql',
      name: 'read',
      label: 'mysql --quick SELECT * > /dev/null',
      command: `mysql ${conn} --quick -D ${db} -e ${sh(`SELECT * FROM ${table}`)} > /dev/null`,
      bytes: () => 0,
      env,
    },
    {
      engine: 'mysql',
      name: 'dump_gzip',
      label: 'mysqldump --single-transaction | gzip -1',
      command: `mysqldump ${conn} --single-transaction ${db} ${table} | gzip -1 > ${dump}`,
      bytes: () => statSync(dump).size,
      env,
    },
    ...tvCases('mysql', url, table, work, s3env, bucket, codecs),
  ];
}

function tvCases(
  engine: string,
  url: string,
  table: string,
  work: string,
  s3env: NodeJS.ProcessEnv,
  bucket: string,
  codecs: string[],
): Case[] {
  const local = join(work, `local-${engine}`);
  mkdirSync(local, { recursive: true });
  // the bin itself (not `node dist/cli.js`), so its shebang flags apply as they do for users
  const tv = (dest: string, codec?: string) =>
    `${CLI} --log-level warn export --source ${sh(url)} --table ${table} --dest ${sh(dest)} --json${codec ? ` --compression ${codec}` : ''}`;
  const bytes = (m: Measurement) => (JSON.parse(m.stdout) as { bytes: number }).bytes;
  // the default codec keeps the plain name (tv_local); every codec gets its ratios
  const localCases = codecs.map((codec, i) => {
    mkdirSync(join(local, codec), { recursive: true });
    return {
      engine,
      name: i === 0 && codec === 'zstd' ? 'tv_local' : `tv_local_${codec}`,
      label: `tablevault export → local dir${codec === 'zstd' ? '' : ` (${codec})`}`,
      command: tv(pathToFileURL(join(local, codec)).href, codec),
      bytes,
    };
  });
  return [
    ...localCases,
    {
      engine,
      name: 'tv_s3',
      label: 'tablevault export → s3rver',
      command: tv(`s3://${bucket}/${engine}`),
      bytes,
      env: { ...process.env, ...s3env },
    },
  ];
}

interface Result {
  engine: string;
  name: string;
  label: string;
  runs: Array<{ wallMs: number; cpuMs: number; serverCpuMs: number; peakRssBytes: number; bytes: number }>;
  wallMs: number;
  cpuMs: number;
  serverCpuMs: number;
  peakRssBytes: number;
  bytes: number;
  rowsPerSec: number;
}

/**
 * `--upload N`: one N MiB object of random bytes through tablevault's uploader and through
 * `aws s3 cp`, to the same S3 server (s3rver in its own process, or TABLEVAULT_BENCH_S3_ENDPOINT
 * with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, e.g. Ceph RGW), round-robin.
 */
async function uploadBench(args: Args): Promise<void> {
  const mib = args.upload!;
  const work = mkdtempSync(join(os.tmpdir(), 'tv-bench-up-'));
  const external = process.env.TABLEVAULT_BENCH_S3_ENDPOINT;
  const s3 = external ? { endpoint: external, stop: () => {} } : await startS3(join(work, 's3'));
  const creds = external
    ? {
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? '',
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      }
    : { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
  const env = {
    ...process.env,
    ...creds,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: s3.endpoint,
  };
  const bucket = `bench-upload-${Date.now()}`;
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: creds.AWS_ACCESS_KEY_ID, secretAccessKey: creds.AWS_SECRET_ACCESS_KEY },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  const file = join(work, 'blob');
  const out = (await import('node:fs')).createWriteStream(file);
  const { randomBytes } = await import('node:crypto');
  for (let i = 0; i < mib; i++)
    if (!out.write(randomBytes(1024 * 1024))) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(() => r()));
  const cases = [
    { name: 'tablevault', command: `node ${join(root, 'dist-bench', 'upload-tv.js')} ${file} ${bucket} tv.bin` },
    {
      name: 'aws s3 cp',
      command: `aws s3 cp ${file} s3://${bucket}/aws.bin --endpoint-url ${s3.endpoint} --only-show-errors`,
    },
  ];
  const runs = new Map(cases.map((c) => [c.name, [] as Measurement[]]));
  try {
    for (let r = 0; r < args.repeat; r++) {
      for (const c of cases) {
        log(`[${r + 1}/${args.repeat}] upload ${mib} MiB: ${c.name}`);
        runs.get(c.name)!.push(await measure(c.command, env));
      }
    }
  } finally {
    s3.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const results = cases.map((c) => {
    const ms = runs.get(c.name)!;
    const wallMs = median(ms.map((m) => m.wallMs));
    return {
      name: c.name,
      wallMs,
      cpuMs: median(ms.map((m) => m.cpuMs)),
      peakRssBytes: Math.max(...ms.map((m) => m.peakRssBytes)),
      mbPerSec: (mib * 1024 * 1024) / 1e6 / (wallMs / 1000),
    };
  });
  const lines = [`upload of one ${mib} MiB object to ${external ?? 's3rver'}, median of ${args.repeat}`, ''];
  for (const r of results)
    lines.push(
      `${r.name.padEnd(12)} ${(r.wallMs / 1000).toFixed(2)} s  ${r.mbPerSec.toFixed(1)} MB/s  cpu ${(r.cpuMs / 1000).toFixed(2)} s  peak RSS ${(r.peakRssBytes / 1e6).toFixed(1)} MB`,
    );
  lines.push('', `tablevault / aws s3 cp throughput: ${(results[0]!.mbPerSec / results[1]!.mbPerSec).toFixed(2)}×`);
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(args.out, { recursive: true });
  const resultFile = join(args.out, `upload-${mib}MiB-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    resultFile,
    `${JSON.stringify({ date: new Date().toISOString(), mib, endpoint: external ?? 's3rver', repeat: args.repeat, results }, null, 2)}\n`,
  );
  log(`results: ${resultFile}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--database')) {
    await databaseBench({ argv, root, pgUrl: pgUrl(), mysqlUrl: mysqlUrl(), startS3 });
    return;
  }
  if (argv.includes('--restore-database')) {
    await restoreDatabaseBench({ argv, root, pgUrl: pgUrl(), mysqlUrl: mysqlUrl() });
    return;
  }
  if (argv.includes('--chunks')) {
    await chunksBench({ argv, root, pgUrl: pgUrl(), mysqlUrl: mysqlUrl() });
    return;
  }
  const args = parseArgs(argv);
  if (args.upload !== undefined) {
    await uploadBench(args);
    return;
  }
  if (args.sync) {
    await syncBench({ repeat: args.repeat, out: args.out, root, startS3 });
    return;
  }
  for (const rows of args.rows)
    if (args.restore) await restoreBench({ ...args, rows, root, pgUrl: pgUrl(), mysqlUrl: mysqlUrl() });
    else await exportBench(args, rows, pgUrl(), mysqlUrl());
}

const pgUrl = () =>
  process.env.TABLEVAULT_BENCH_PG_URL ??
  process.env.TABLEVAULT_TEST_PG_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const mysqlUrl = () =>
  process.env.TABLEVAULT_BENCH_MYSQL_URL ?? process.env.TABLEVAULT_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** One row count: its table, every case round-robin, the report and its JSON file. */
async function exportBench(args: Args, rows: number, pgUrl: string, mysqlUrl: string): Promise<void> {
  const table = benchTableName(rows);
  if (args.engines.includes('pg')) await ensurePgTable(pgUrl, rows, log);
  if (args.engines.includes('mysql')) await ensureMysqlTable(mysqlUrl, rows, log);

  const work = mkdtempSync(join(os.tmpdir(), 'tv-bench-'));
  const s3 = await startS3(join(work, 's3'));
  const bucket = 'bench';
  const s3env = {
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: s3.endpoint,
  };
  mkdirSync(join(work, 's3'), { recursive: true });
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();

  const cases = [
    ...(args.engines.includes('pg') ? pgCases(pgUrl, table, work, s3env, bucket, args.codecs) : []),
    ...(args.engines.includes('mysql') ? mysqlCases(mysqlUrl, table, work, s3env, bucket, args.codecs) : []),
  ];
  const runs = new Map<Case, Result['runs']>(cases.map((c) => [c, []]));
  try {
    // round-robin, so a noisy moment on the shared machine hits every case rather than one
    for (let r = 0; r < args.repeat; r++) {
      for (const c of cases) {
        log(`[${r + 1}/${args.repeat}] ${c.engine} ${c.label}`);
        const m = await measure(c.command, c.env, SERVER_PROCESSES[c.engine]);
        runs.get(c)!.push({
          wallMs: m.wallMs,
          cpuMs: m.cpuMs,
          serverCpuMs: m.serverCpuMs ?? NaN,
          peakRssBytes: m.peakRssBytes,
          bytes: c.bytes(m),
        });
      }
    }
  } finally {
    s3.stop();
    rmSync(work, { recursive: true, force: true });
  }

  const results: Result[] = cases.map((c) => {
    const rs = runs.get(c)!;
    return {
      engine: c.engine,
      name: c.name,
      label: c.label,
      ...summarizeRuns(rs, rows),
      bytes: median(rs.map((x) => x.bytes)),
    };
  });
  const ratios = ['pg', 'mysql']
    .filter((e) => args.engines.includes(e))
    .flatMap((engine) => {
      const get = (n: string) => results.find((x) => x.engine === engine && x.name === n)!;
      const tv = results.filter((x) => x.engine === engine && x.name.startsWith('tv_')).map((x) => x.name);
      return tv.map((n) => ({
        engine,
        case: n,
        wallVsRead: get(n).wallMs / get('read').wallMs,
        wallVsDumpGzip: get(n).wallMs / get('dump_gzip').wallMs,
        // client and server CPU together: what the two cores have to get through
        cpuVsDumpGzip: (get(n).cpuMs + get(n).serverCpuMs) / (get('dump_gzip').cpuMs + get('dump_gzip').serverCpuMs),
        bytesVsDumpGzip: get(n).bytes / get('dump_gzip').bytes,
        peakRssBytes: get(n).peakRssBytes,
      }));
    });

  const mb = (b: number) => (b / 1e6).toFixed(1);
  const lines = [`rows ${rows}, median of ${args.repeat} runs, ${os.cpus().length} cores, node ${process.version}`, ''];
  const header = ['engine', 'case', 'wall s', 'cpu s', 'server cpu s', 'rows/s', 'MB out', 'peak RSS MB'];
  const body = results.map((x) => [
    x.engine,
    x.label,
    (x.wallMs / 1000).toFixed(2),
    (x.cpuMs / 1000).toFixed(2),
    (x.serverCpuMs / 1000).toFixed(2),
    String(x.rowsPerSec),
    x.bytes ? mb(x.bytes) : '-',
    mb(x.peakRssBytes),
  ]);
  lines.push(...alignedTable(header, body));
  lines.push(
    '',
    'ratios (tablevault / baseline; targets: wall ≤ 1.0× dump|gzip (pg), ≤ 0.9× (mysql); bytes ≤ 0.5× dump|gzip; peak RSS ≤ 200 MB):',
  );
  for (const r of ratios) {
    lines.push(
      `  ${r.engine} ${r.case}: wall ${r.wallVsRead.toFixed(2)}× read, ${r.wallVsDumpGzip.toFixed(2)}× dump|gzip; cpu+server ${r.cpuVsDumpGzip.toFixed(2)}× dump|gzip; bytes ${r.bytesVsDumpGzip.toFixed(2)}× dump|gzip; peak RSS ${mb(r.peakRssBytes)} MB`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  mkdirSync(args.out, { recursive: true });
  const file = join(args.out, `export-${rows}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), rows, repeat: args.repeat, cores: os.cpus().length, node: process.version, results, ratios }, null, 2)}\n`,
  );
  log(`results: ${file}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildProgram } from '../../src/cli/program.js';
import { loadStrategy } from '../../src/config/strategy.js';
import { argvProblems } from '../helpers/cli-argv.js';

/**
 * The deploy examples run tablevault commands the CLI must have: every command line in
 * deploy/kubernetes/*.yaml, docker-compose.yml and the Dockerfile, checked against the commander
 * program main.ts runs (its commands, flags, flag values and arguments).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = join(ROOT, 'deploy/kubernetes');

interface CommandLine {
  where: string;
  argv: string[];
}

/** The Dockerfile's ENTRYPOINT and CMD (exec form): the CLI's arguments when the image runs it bare; and its ENV settings. */
function dockerfile(): { entrypoint: string[]; cmd: string[]; env: string[] } {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const exec = (k: string) => {
    const m = new RegExp(`^${k}\\s+(\\[.*\\])\\s*$`, 'm').exec(text);
    return m ? (JSON.parse(m[1]!) as string[]) : [];
  };
  const env = [...text.matchAll(/^ENV\s+(.*)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
  return { entrypoint: exec('ENTRYPOINT'), cmd: exec('CMD'), env };
}

const isCli = (s: string) => /(^|\/)(dist\/cli\.js|tablevault)$/.test(s);

/** The CLI's arguments of a container's command and args; undefined when it is not tablevault's CLI. */
function cliArgs(command: string[] | undefined, args: string[] | undefined): string[] | undefined {
  const image = dockerfile();
  const line = command ?? image.entrypoint;
  const at = line.findIndex(isCli);
  if (at < 0) return undefined;
  return [...line.slice(at + 1), ...(args ?? (command ? [] : image.cmd))];
}

/** Every container running the tablevault image, wherever it sits in the object (CronJob, Job, Deployment, Pod). */
function containers(node: unknown, where: string, out: CommandLine[]): CommandLine[] {
  if (Array.isArray(node)) node.forEach((n) => containers(n, where, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    for (const list of ['initContainers', 'containers'])
      for (const c of (o[list] as Array<Record<string, unknown>> | undefined) ?? []) {
        if (!String(c.image).includes('tablevault')) continue;
        const argv = cliArgs(c.command as string[] | undefined, c.args as string[] | undefined);
        out.push({ where: `${where} container ${String(c.name)}`, argv: argv ?? ['<not the tablevault CLI>'] });
      }
    for (const v of Object.values(o)) containers(v, where, out);
  }
  return out;
}

function manifestLines(file: string): CommandLine[] {
  const out: CommandLine[] = [];
  for (const doc of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
    expect(doc.errors, `${file}: YAML errors`).toEqual([]);
    const o = doc.toJS() as { kind?: string; metadata?: { name?: string } } | null;
    if (o) containers(o, `${o.kind} ${o.metadata?.name}`, out);
  }
  return out;
}

function composeLines(): CommandLine[] {
  const doc = parseAllDocuments(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'))[0]!;
  const services = (doc.toJS() as { services: Record<string, Record<string, unknown>> }).services;
  return Object.entries(services)
    .filter(([, s]) => s.build !== undefined || String(s.image).includes('tablevault'))
    .map(([name, s]) => {
      const cmd = typeof s.command === 'string' ? s.command.split(/\s+/) : (s.command as string[] | undefined);
      return { where: `service ${name}`, argv: cliArgs(undefined, cmd)! };
    });
}

const yamlFiles = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f));
const program = () => buildProgram().program;

describe('deploy examples use only commands and flags the CLI has', () => {
  it('finds the command lines it checks', () => {
    expect(manifestLines('cronjob.yaml').map((l) => l.argv[0])).toEqual(['backup']);
    expect(manifestLines('serve-deployment.yaml').map((l) => l.argv[0])).toEqual(['serve']);
    expect(composeLines().length).toBeGreaterThan(0);
    expect(dockerfile().entrypoint.some(isCli)).toBe(true);
  });

  it('names a flag the CLI does not have', () => {
    expect(argvProblems(program(), ['backup', 's.yaml', '--jion', '--parallel', '2'])).toEqual([
      'tablevault backup has no option --jion',
    ]);
  });

  it('names a command the CLI does not have, and a flag value its parser refuses', () => {
    expect(argvProblems(program(), ['backups', 's.yaml'])).toEqual(['tablevault has no command backups']);
    expect(argvProblems(program(), ['serve', 's.yaml', '--parallel', 'two'])).toHaveLength(1);
  });

  it.each(yamlFiles)('deploy/kubernetes/%s', (file) => {
    const p = program();
    for (const l of manifestLines(file)) expect(argvProblems(p, l.argv), `${file}: ${l.where}`).toEqual([]);
  });

  it('docker-compose.yml', () => {
    const p = program();
    for (const l of composeLines()) expect(argvProblems(p, l.argv), `docker-compose.yml: ${l.where}`).toEqual([]);
  });

  it("the Dockerfile's CMD", () => {
    expect(argvProblems(program(), dockerfile().cmd)).toEqual([]);
  });

  it("the Dockerfile runs node with the bin's shebang flags and malloc settings", () => {
    // #!/usr/bin/env -S VAR=value … node --flag …
    const shebang = readFileSync(join(ROOT, 'src/cli.ts'), 'utf8').split('\n')[0]!.split(/\s+/).slice(2);
    const node = shebang.indexOf('node');
    const { entrypoint, env } = dockerfile();
    expect(entrypoint.slice(0, entrypoint.findIndex(isCli))).toEqual(shebang.slice(node));
    expect(env).toEqual(expect.arrayContaining(shebang.slice(0, node)));
  });
});

describe('deploy/kubernetes strategy', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.unstubAllEnvs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the ConfigMap's strategy.yaml loads, with the Secret's variables set", () => {
    const docs = parseAllDocuments(readFileSync(join(K8S, 'strategy-configmap.yaml'), 'utf8'));
    const cm = docs[0]!.toJS() as { data: Record<string, string> };
    const secret = parseAllDocuments(readFileSync(join(K8S, 'secret.example.yaml'), 'utf8'))[0]!.toJS() as {
      stringData: Record<string, string>;
    };
    for (const [k, v] of Object.entries(secret.stringData)) vi.stubEnv(k, v);
    dir = mkdtempSync(join(tmpdir(), 'tv-k8s-'));
    const file = join(dir, 'strategy.yaml');
    writeFileSync(file, cm.data['strategy.yaml']!);
    const s = loadStrategy(file);
    expect(s.destination).toBe('s3://backups/nightly');
    expect(s.schedule).toBe('0 2 * * *');
  });
});

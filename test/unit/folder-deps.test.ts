import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Which top-level folder of src/ imports which: the strategies (backup/), restore/, verify/ and
 * sync/ share what they have in common through manifest/, arrow/, parquet/, checksum/ and config/,
 * never through each other, so none of them can pull another in (or into a cycle) by accident; and
 * source/, which they all use, uses none of them.
 */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** `backup/run.ts` → `backup`; a file directly in src/ is its own node. */
const folderOf = (file: string) => relative(SRC, file).split('/')[0]!.replace(/\.ts$/, '');

/** folder → folders it imports → the files that do (static, type-only, re-exports and dynamic imports alike). */
function folderImports(): Map<string, Map<string, Set<string>>> {
  const out = new Map<string, Map<string, Set<string>>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    for (const m of readFileSync(file, 'utf8').matchAll(
      /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm,
    )) {
      const to = folderOf(resolve(dirname(file), m[1]!));
      if (to === from) continue;
      const targets = out.get(from) ?? new Map<string, Set<string>>();
      out.set(from, targets);
      targets.set(to, (targets.get(to) ?? new Set()).add(relative(SRC, file)));
    }
  }
  return out;
}

const graph = folderImports();

/** "backup/ imports restore/ (backup/incremental.ts)" for each forbidden edge found. */
function violations(from: string, forbidden: string[]): string[] {
  const targets = graph.get(from) ?? new Map<string, Set<string>>();
  return forbidden
    .filter((to) => targets.has(to))
    .map((to) => `${from}/ imports ${to}/ (${[...targets.get(to)!].join(', ')})`);
}

describe('folder dependencies in src/', () => {
  it('finds the imports it checks', () => {
    expect(graph.get('backup')?.has('manifest')).toBe(true);
    expect(graph.get('restore')?.has('manifest')).toBe(true);
    expect(graph.get('source')?.has('checksum')).toBe(true);
  });

  it('backup/ imports neither restore/ nor verify/ (it may import sync/ for mirrors)', () => {
    expect(violations('backup', ['restore', 'verify'])).toEqual([]);
  });

  it('restore/ imports neither backup/ nor verify/', () => {
    expect(violations('restore', ['backup', 'verify'])).toEqual([]);
  });

  it('verify/ imports neither backup/ nor restore/', () => {
    expect(violations('verify', ['backup', 'restore'])).toEqual([]);
  });

  it('sync/ imports none of backup/, restore/ and verify/', () => {
    expect(violations('sync', ['backup', 'restore', 'verify'])).toEqual([]);
  });

  it('source/ imports none of verify/, restore/, backup/ and sync/ (verify and restore reach the engines through it)', () => {
    expect(violations('source', ['verify', 'restore', 'backup', 'sync'])).toEqual([]);
  });

  it('the shared folders (manifest/, arrow/, parquet/, config/, checksum/) import none of backup/, restore/ and verify/', () => {
    expect(
      ['manifest', 'arrow', 'parquet', 'config', 'checksum'].flatMap((f) =>
        violations(f, ['backup', 'restore', 'verify']),
      ),
    ).toEqual([]);
    expect(['manifest', 'arrow', 'parquet', 'checksum'].flatMap((f) => violations(f, ['sync']))).toEqual([]);
  });
});

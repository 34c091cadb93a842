import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Everything engine-specific lives in src/source/<engine>/ behind the Engine object
 * (src/source/engine.ts): outside src/source/ no code compares an engine's name or reaches into
 * an engine's folder, so adding an engine means adding a folder.
 */
const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const ENGINE = String.raw`['"\x60](?:postgres|postgresql|mysql|mariadb)['"\x60]`;
const RULES: Array<{ what: string; re: RegExp }> = [
  { what: 'compares an engine name', re: new RegExp(String.raw`[!=]==?\s*${ENGINE}|${ENGINE}\s*[!=]==?`) },
  { what: 'switches on an engine name', re: new RegExp(String.raw`\bcase\s+${ENGINE}\s*:`) },
  { what: 'imports an engine folder', re: /(?:from\s*|import\s*\(\s*)['"][^'"]*source\/(?:postgres|mysql)\// },
  { what: "picks an engine's identifier quoting", re: /\bquote(?:Pg|Mysql)Ident\b/ },
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** `line: what it does` for each line of `text` that knows an engine. */
function violations(text: string): string[] {
  return text
    .split('\n')
    .flatMap((line, i) => RULES.filter((r) => r.re.test(line)).map((r) => `${i + 1}: ${r.what}: ${line.trim()}`));
}

describe('the engine boundary', () => {
  it('no file outside src/source/ branches on the engine or imports an engine folder', () => {
    const found = tsFiles(SRC)
      .filter((f) => !relative(SRC, f).startsWith(`source/`))
      .flatMap((f) => violations(readFileSync(f, 'utf8')).map((v) => `src/${relative(SRC, f)}:${v}`));
    // move the engine-specific part into the engine folders (an Engine or Source member) instead
    expect(found).toEqual([]);
  });

  it('the scan finds each kind of engine knowledge', () => {
    expect(violations("const q = t.engine === 'postgres' ? a : b;")).toHaveLength(1);
    expect(violations("if ('mysql' !== source.engine) return;")).toHaveLength(1);
    expect(violations("    case 'mysql': return 1;")).toHaveLength(1);
    expect(violations("import { SESSION_SETTINGS } from '../source/postgres/session.js';")).toHaveLength(1);
    expect(violations("const m = await import('../source/mysql/loader.js');")).toHaveLength(1);
    expect(violations('const name = quotePgIdent(t.name);')).toHaveLength(1);
    expect(violations('const from = m.source.engine === engine.name ? engine : other;')).toEqual([]);
  });
});

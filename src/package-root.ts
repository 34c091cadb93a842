import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The package's own directory (where package.json and migrations/ are), found by walking up from
 * this module: it runs from src/ under the tests, from dist/ as compiled, and from dist/'s bundle
 * chunks as the CLI, so no fixed number of `..` fits all three.
 */
export function packagePath(...parts: string[]): string {
  if (!root) {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (;;) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tablevault') break;
      const up = dirname(dir);
      if (up === dir) throw new Error(`tablevault's package.json was not found above ${fileURLToPath(import.meta.url)}`);
      dir = up;
    }
    root = dir;
  }
  return join(root, ...parts);
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageJson {
  name?: string;
  version: string;
}

let found: { root: string; pkg: PackageJson } | undefined;

/**
 * The package's own directory and package.json, found by walking up from this module: it runs
 * from src/ under the tests, from dist/ as compiled, and from dist/'s bundle chunks as the CLI,
 * so no fixed number of `..` fits all three.
 */
function packageRoot(): { root: string; pkg: PackageJson } {
  if (found) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
      if (pkg.name === 'tablevault') return (found = { root: dir, pkg });
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`tablevault's package.json was not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A path inside the package (package.json, migrations/). */
export function packagePath(...parts: string[]): string {
  return join(packageRoot().root, ...parts);
}

export function packageVersion(): string {
  return packageRoot().pkg.version;
}

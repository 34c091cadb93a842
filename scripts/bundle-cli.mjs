// Bundles the CLI (and the Parquet encoder worker it spawns) into dist/ with esbuild, over the
// tsc output of src/cli.ts. Resolving and compiling the dependencies' thousand-odd module files
// cost each run ~0.25 s before any work started on Node 20 (`tablevault export` of a one-row
// table: 0.57 s unbundled, 0.33 s bundled). Node 22's compile cache does not replace it: on Node
// 24, mean of 8 one-row exports, unbundled with the cache took 0.36 CPU-s and 0.38 s wall, the
// bundle 0.33 s wall; the bin turns the cache on over the bundle (src/cli.ts).
// parquet-wasm stays outside: it loads its .wasm from beside its own file.
import { readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

// chunks sit beside cli.js, so `new URL('./encode-worker.js', import.meta.url)` finds the worker from any of them
for (const f of readdirSync('dist')) if (/^chunk-.*\.js(\.map)?$/.test(f)) rmSync(`dist/${f}`);

await build({
  entryPoints: { cli: 'src/cli.ts', 'encode-worker': 'src/parquet/encode-worker.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true, // each command's code stays in a chunk loaded only when that command runs
  chunkNames: 'chunk-[hash]',
  format: 'esm',
  platform: 'node',
  // the dependencies' ES module builds where they have one (the AWS SDK's dist-es): esbuild can drop
  // what the bin never calls. One-row export to S3, mean of 8: 0.393 -> 0.382 CPU-s, 114 -> 109 MB RSS
  mainFields: ['module', 'main'],
  target: 'node22',
  sourcemap: 'linked',
  external: ['parquet-wasm', 'pino-pretty', '@electric-sql/*', 'pg-native'],
  // CommonJS dependencies bundled into ESM still call require() for Node's built-ins
  banner: {
    js: "import { createRequire as __tvRequire } from 'node:module'; const require = __tvRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=4 --initial-old-space-size=64 --wasm-tiering-budget=10000000
// The bin's flags, measured on Node 24 (see README, Memory):
// - 4 MB semi-spaces instead of V8's default (16 MB at this heap size, 8 MB before): batches die
//   young, and collecting them sooner keeps peak RSS down (1M bench rows: ~185 MB against ~200 MB
//   with 8 MB and ~205 MB with 16 MB, at the same CPU);
// - an old generation that starts at 64 MB instead of growing from a few: a run of many tables
//   promotes a steady trickle of objects that die soon after, and on its ~20 MB heap V8 ran a
//   full collection every ~50 ms (39 on the main thread in a 244-table backup,
//   ~0.3 s plus its concurrent marking on the other core). With it: 3 full collections, that
//   backup's wall 5.19 -> 4.41 s (pg_dump -Fd -j 2: 4.39 s; medians of 4, alternating), peak RSS
//   237 -> 255 MB; one 500k-row table's peak RSS is unchanged (~167 MB), its heap staying ~20 MB;
// - two malloc arenas instead of one per thread, and every buffer of 128 KiB or more in a mapping
//   of its own, returned when freed: the wire and IPC buffers that the reader and the encoder
//   thread free do not pile up in per-thread arenas or in a brk heap that cannot shrink;
// - a WebAssembly function is recompiled by TurboFan after ~10 MB of its code has run instead of
//   V8's 1.8 MB: fewer of parquet-wasm's functions are compiled twice, while the hot loops still
//   reach TurboFan within the first row groups.
//
// First of all, before the rest is loaded: Node's on-disk compile cache (Node 22.1+), so later
// runs skip compiling the bundle's modules. Measured on Node 24, mean of 10 one-row exports:
// 0.40 -> 0.36 CPU-s and 0.47 -> 0.41 s wall to S3, 0.33 -> 0.31 CPU-s to a local directory.
// NODE_COMPILE_CACHE chooses its directory (default: the OS temp dir), NODE_DISABLE_COMPILE_CACHE=1
// turns it off.
import module from 'node:module';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `tablevault: needs Node 22 or newer, this is Node ${process.versions.node}; install Node 24 (or run it through npm in this package, whose node devDependency is Node 24)\n`,
  );
  process.exit(2);
}
module.enableCompileCache();
await import('./cli/main.js');

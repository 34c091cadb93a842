// `npm test`: the suite in two vitest processes at once, each one file at a time. One file at a
// time leaves ~30% of the two cores idle (waits on the servers, on child processes, on S3); a
// second lane fills it. Lane B holds test files that share nothing with any other file: each has
// a state database of its own (never the test database's tablevault_* tables, which other files
// reset) and tables, schemas and databases no other file names. Files that do share (tv_whole.*
// of test/helpers/whole-db.ts) are in one lane together. Every other file runs in lane A, as
// before. Lane B's report is printed after lane A's; the run fails if either lane fails.
//
// Arguments after `--` go to both vitest processes. With file filters, run `npx vitest run <file>` instead.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';

/** Each with a state database of its own; a new file goes here only if the same holds for it. */
export const LANE_B = [
  'compact',
  'expire',
  'expire-mirror',
  'export-multipart', // export keeps no state; tv_big is its own
  'incremental-chunks',
  'incremental-key',
  'restore-deletes',
  'retention-history',
  'run-consistency',
  'shared-run-claims',
  'table-names',
  // tv_whole.* (test/helpers/whole-db.ts), state database tv_whole_state
  'whole-database',
  'whole-database-export',
  'whole-database-incremental',
  'restore-many',
].map((n) => `test/integration/${n}.test.ts`);

const vitest = join('node_modules', 'vitest', 'vitest.mjs');
const extra = process.argv.slice(2);

function lane(args, stdio) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vitest, 'run', ...args, ...extra], { stdio });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const out = mkdtempSync(join(tmpdir(), 'tv-lane-b-'));
const logB = join(out, 'lane-b.log');
const fd = openSync(logB, 'w');
const [a, b] = await Promise.all([
  lane(
    LANE_B.flatMap((f) => ['--exclude', f]),
    'inherit',
  ),
  lane(LANE_B, ['ignore', fd, fd]),
]);
process.stdout.write(`\n==> lane B (${LANE_B.length} files, beside lane A)\n${readFileSync(logB, 'utf8')}`);
rmSync(out, { recursive: true, force: true });
if (a !== 0 || b !== 0) {
  process.stderr.write(`test lanes failed: lane A exit ${a}, lane B exit ${b}\n`);
  process.exit(1);
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** README's first command must keep working: the demo runs end to end and its verify passes. */
describe('npm run demo', () => {
  it('backs up, moves only the change on the second run, mirrors, and verifies equal', async () => {
    const script = fileURLToPath(new URL('../../dist/demo/main.js', import.meta.url));
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [script], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/shop\.orders\s+incremental\s+ok\s+20000\s+4/);
    expect(r.out).toMatch(/shop\.orders\s+incremental\s+ok\s+50\s+1/); // the second run: 40 updated + 10 new rows only
    expect(r.out).toMatch(/shop\.customers\s+equal\s+2000\s+2000\s+0/);
    expect(r.out).toMatch(/shop\.orders\s+equal\s+20010\s+20010\s+0/);
  });
});

import { describe, expect, it } from 'vitest';
import { SyncTally } from '../../src/sync/summary.js';

const run = { source: 's3://a/x', dest: 's3://b/x', dryRun: false, durationMs: 2000, peakRssBytes: 1 };

describe('SyncTally', () => {
  it('counts copies by method and their bytes', () => {
    const t = new SyncTally();
    t.copy(10, 'server-side');
    t.copy(5, 'streamed');
    t.copy(5, 'streamed');
    const s = t.summary(run);
    expect([s.copied, s.bytes]).toEqual([{ serverSide: 1, streamed: 2 }, 20]);
  });

  it("counts a dry run's copies as bytes only", () => {
    const t = new SyncTally();
    t.copy(7);
    const s = t.summary({ ...run, dryRun: true });
    expect([s.copied, s.bytes]).toEqual([{ serverSide: 0, streamed: 0 }, 7]);
  });

  it('names at most 100 failures and counts them all', () => {
    const t = new SyncTally();
    for (let i = 0; i < 150; i++) t.fail(`k${i}`, new Error('boom'));
    const s = t.summary(run);
    expect([s.failed, s.failures.length, s.failures[0]]).toEqual([150, 100, { key: 'k0', error: 'boom' }]);
  });

  it('lists objects kept by size alone, and counts them as skipped', () => {
    const t = new SyncTally();
    t.skip('a');
    t.skip('b', 'no checksum');
    const s = t.summary(run);
    expect([s.skipped, s.keptBySizeOnly, s.comparedBySizeOnly]).toEqual([2, 1, [{ key: 'b', note: 'no checksum' }]]);
  });

  it('derives the rates from the counts and the duration', () => {
    const t = new SyncTally();
    t.copy(3e6, 'streamed');
    t.copy(1e6, 'streamed');
    t.request('copy', 3);
    const s = t.summary(run);
    expect([s.requestsPerCopiedObject, s.objectsPerSecond, s.megabytesPerSecond]).toEqual([1.5, 1, 2]);
  });

  it("keeps the summary's keys in the order the JSON output has always had", () => {
    expect(Object.keys(new SyncTally().summary({ ...run, fallback: 'x' }))).toEqual([
      'source',
      'dest',
      'dryRun',
      'listed',
      'toCopy',
      'copied',
      'skipped',
      'deleted',
      'failed',
      'bytes',
      'compared',
      'keptBySizeOnly',
      'comparedBySizeOnly',
      'abortedUploads',
      'requests',
      'requestsPerCopiedObject',
      'objectsPerSecond',
      'megabytesPerSecond',
      'durationMs',
      'peakRssBytes',
      'failures',
      'fallback',
    ]);
  });
});

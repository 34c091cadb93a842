import { describe, expect, it } from 'vitest';
import { DEFAULT_LEASE_MS, leaseMs } from '../../src/backup/join.js';
import { joinFlags } from '../../src/cli/backup.js';
import { durationMs } from '../../src/cli/parse.js';

describe('joinFlags (backup and serve --join)', () => {
  it('takes --lease as the milliseconds its parser gave', () => {
    expect(leaseMs(joinFlags({ join: 'k', lease: durationMs('3s') }).leaseMs)).toBe(3_000);
  });

  it('gives the default lease when --lease is not given', () => {
    expect(leaseMs(joinFlags({ join: true }).leaseMs)).toBe(DEFAULT_LEASE_MS);
  });

  it('takes the key given to --join', () => {
    expect(joinFlags({ join: 'nightly-1' }).key).toBe('nightly-1');
  });
});

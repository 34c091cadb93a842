import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asideRef } from '../../src/restore/aside.js';

/** Table names up to PostgreSQL's and MySQL's limits, of any code points (emoji: 4 bytes). */
const tableName = fc.string({
  minLength: 1,
  maxLength: 64,
  unit: fc.oneof(fc.constantFrom('a', '_', ' ', 'é', '表', '😀'), fc.string({ minLength: 1, maxLength: 1 })),
});
const kind = fc.constantFrom('restoring' as const, 'replaced' as const);

describe('asideRef', () => {
  it('keeps a short name whole after the prefix, in the same schema', () => {
    expect(asideRef({ schema: 'shop', name: 'orders' }, 'restoring')).toEqual({
      schema: 'shop',
      name: 'tablevault_restoring_orders',
    });
  });

  it('is at most 63 bytes, whatever the name', () => {
    fc.assert(fc.property(tableName, kind, (n, k) => Buffer.byteLength(asideRef({ name: n }, k).name) <= 63));
  });

  it('always starts with the prefix that marks it as a restore’s', () => {
    fc.assert(fc.property(tableName, kind, (n, k) => asideRef({ name: n }, k).name.startsWith(`tablevault_${k}_`)));
  });

  it('gives two different names two different aside names', () => {
    fc.assert(
      fc.property(tableName, tableName, kind, (a, b, k) => {
        fc.pre(a !== b);
        return asideRef({ name: a }, k).name !== asideRef({ name: b }, k).name;
      }),
    );
  });

  it('cuts no character in half', () => {
    fc.assert(fc.property(tableName, kind, (n, k) => !asideRef({ name: n }, k).name.includes('\uFFFD')));
  });
});

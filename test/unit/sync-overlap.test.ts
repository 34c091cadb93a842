import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TablevaultError } from '../../src/errors.js';
import { checkNotOverlapping } from '../../src/sync/overlap.js';

type Loc = { bucket: string; prefix: string; endpoint?: string };

/** The error code checkNotOverlapping throws, or undefined when it accepts the pair. */
function refusal(src: Loc, dst: Loc): string | undefined {
  try {
    checkNotOverlapping(src, dst);
    return undefined;
  } catch (e) {
    if (!(e instanceof TablevaultError)) throw e;
    return e.code;
  }
}

const segment = fc.constantFrom('a', 'b', 'ab', 'nightly', 'x-1');
const prefix = fc.array(segment, { maxLength: 3 }).map((s) => s.join('/'));
const loc = fc.record({
  bucket: fc.constantFrom('b1', 'b2'),
  prefix,
  endpoint: fc.option(fc.constantFrom('http://e1', 'http://e2'), { nil: undefined }),
});

describe('checkNotOverlapping', () => {
  it('refuses the same bucket and prefix as SYNC_SAME, an input error (exit 2) naming the location', () => {
    const e = (() => {
      try {
        checkNotOverlapping({ bucket: 'b', prefix: 'p' }, { bucket: 'b', prefix: 'p' });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(TablevaultError);
    expect(e).toMatchObject({ code: 'SYNC_SAME', exitCode: 2 });
    expect((e as Error).message).toMatch(/s3:\/\/b\/p.*give a different destination bucket or prefix/);
  });

  it('refuses a destination inside the source, and a source inside the destination, as SYNC_OVERLAP', () => {
    expect(refusal({ bucket: 'b', prefix: 'a' }, { bucket: 'b', prefix: 'a/copy' })).toBe('SYNC_OVERLAP');
    expect(refusal({ bucket: 'b', prefix: 'a/copy' }, { bucket: 'b', prefix: 'a' })).toBe('SYNC_OVERLAP');
  });

  it('treats the empty prefix (the whole bucket) as containing every other prefix', () => {
    expect(refusal({ bucket: 'b', prefix: '' }, { bucket: 'b', prefix: 'x' })).toBe('SYNC_OVERLAP');
    expect(refusal({ bucket: 'b', prefix: 'x' }, { bucket: 'b', prefix: '' })).toBe('SYNC_OVERLAP');
  });

  it('accepts prefixes side by side, even when one is a string prefix of the other', () => {
    expect(refusal({ bucket: 'b', prefix: 'archive' }, { bucket: 'b', prefix: 'archive-other' })).toBeUndefined();
    expect(refusal({ bucket: 'b', prefix: 'a/x' }, { bucket: 'b', prefix: 'a/y' })).toBeUndefined();
  });

  it('accepts the same prefix in another bucket or on another endpoint', () => {
    expect(refusal({ bucket: 'b', prefix: 'p' }, { bucket: 'c', prefix: 'p' })).toBeUndefined();
    expect(
      refusal({ bucket: 'b', prefix: 'p', endpoint: 'http://e1' }, { bucket: 'b', prefix: 'p', endpoint: 'http://e2' }),
    ).toBeUndefined();
    expect(refusal({ bucket: 'b', prefix: 'p', endpoint: 'http://e1' }, { bucket: 'b', prefix: 'p' })).toBeUndefined();
  });

  it('is symmetric: swapping source and destination gives the same verdict', () => {
    fc.assert(
      fc.property(loc, loc, (a, b) => {
        expect(refusal(b, a)).toBe(refusal(a, b));
      }),
    );
  });

  it('refuses exactly when endpoint and bucket match and one prefix path contains the other', () => {
    const contains = (outer: string, inner: string) => outer === '' || inner === outer || inner.startsWith(`${outer}/`);
    fc.assert(
      fc.property(loc, loc, (a, b) => {
        const sameStore = (a.endpoint ?? '') === (b.endpoint ?? '') && a.bucket === b.bucket;
        const expected = !sameStore
          ? undefined
          : a.prefix === b.prefix
            ? 'SYNC_SAME'
            : contains(a.prefix, b.prefix) || contains(b.prefix, a.prefix)
              ? 'SYNC_OVERLAP'
              : undefined;
        expect(refusal(a, b)).toBe(expected);
      }),
    );
  });
});

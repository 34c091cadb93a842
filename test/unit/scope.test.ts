import { describe, expect, it } from 'vitest';
import { Scope } from '../../src/scope.js';

describe('Scope', () => {
  it('closes what was added in the reverse order', async () => {
    const closed: string[] = [];
    const scope = new Scope();
    scope.add('a', (r) => closed.push(r));
    scope.add('b', async (r) => {
      closed.push(r);
    });
    await scope.close();
    expect(closed).toEqual(['b', 'a']);
  });

  it('closes everything when one close fails, then throws that failure', async () => {
    const closed: string[] = [];
    const scope = new Scope();
    scope.add('a', (r) => closed.push(r));
    scope.add('b', () => {
      throw new Error('b failed');
    });
    await expect(scope.close()).rejects.toThrow('b failed');
    expect(closed).toEqual(['a']);
  });

  it('closes each resource once', async () => {
    let n = 0;
    const scope = new Scope();
    scope.add(null, () => n++);
    await scope.close();
    await scope.close();
    expect(n).toBe(1);
  });
});

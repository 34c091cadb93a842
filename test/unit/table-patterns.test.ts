import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTablePattern, patternMatches, specificity } from '../../src/plan/patterns.js';
import { resolveTables, type Catalog, type CatalogRelation, type PatternEntry } from '../../src/plan/tables.js';
import type { SourceTable } from '../../src/source/columns.js';

const t = (schema: string, name: string): { schema: string; name: string } => ({ schema, name });
const matches = (pattern: string, schema: string, name: string, def = 'public') =>
  patternMatches(parseTablePattern(pattern), t(schema, name), def);

/** A reference glob matcher, written as plain recursion over characters. */
function globRef(p: string, s: string): boolean {
  if (!p.length) return !s.length;
  if (p[0] === '*') return globRef(p.slice(1), s) || (s.length > 0 && globRef(p, s.slice(1)));
  if (!s.length) return false;
  return (p[0] === '?' || p[0] === s[0]) && globRef(p.slice(1), s.slice(1));
}

describe('parseTablePattern', () => {
  it('reads schema.table as an exact name', () => {
    const p = parseTablePattern('public.orders');
    expect([p.exact, p.schema?.text, p.name.text]).toEqual([true, 'public', 'orders']);
  });

  it('reads a name without a schema as one in the default schema', () => {
    expect([matches('orders', 'public', 'orders'), matches('orders', 'shop', 'orders')]).toEqual([true, false]);
  });

  it('matches * against any run of characters, dots included', () => {
    expect([matches('public.order_*', 'public', 'order_items'), matches('public.*', 'public', 'a.b')]).toEqual([
      true,
      true,
    ]);
  });

  it('does not let a table pattern match another schema', () => {
    expect(matches('public.*', 'shop', 'orders')).toBe(false);
  });

  it('matches *.* against every schema', () => {
    expect([matches('*.*', 'shop', 'x'), matches('*.*', 'public', 'y')]).toEqual([true, true]);
  });

  it('matches ? against exactly one character', () => {
    expect([matches('s.t?', 's', 't1'), matches('s.t?', 's', 't'), matches('s.t?', 's', 't12')]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('matches a [set] and a negated [!set]', () => {
    expect([matches('s.t[0-2]', 's', 't1'), matches('s.t[0-2]', 's', 't5'), matches('s.t[!0-2]', 's', 't5')]).toEqual([
      true,
      false,
      true,
    ]);
  });

  it('takes wildcards and dots inside quotes literally', () => {
    const p = parseTablePattern('public."rate*.x"');
    expect([p.exact, p.name.text, matches('public."rate*.x"', 'public', 'rates.x')]).toEqual([true, 'rate*.x', false]);
  });

  it('rejects three parts, empty parts and an unclosed quote or set', () => {
    for (const bad of ['a.b.c', '.x', 'x.', '"open', 'x.[ab']) expect(() => parseTablePattern(bad), bad).toThrow();
  });

  it('agrees with a reference glob matcher for * and ?', () => {
    const chars = fc.constantFrom('a', 'b', '_', 'é', '-');
    const pat = fc.array(fc.oneof(chars, fc.constant('*'), fc.constant('?')), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(pat, fc.array(chars, { maxLength: 10 }), (p, s) => {
        const name = s.join('');
        expect(matches(`x.${p.join('')}`, 'x', name)).toBe(globRef(p.join(''), name));
      }),
    );
  });

  it('matches every name exactly by its quoted form', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (schema, name) => {
        const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
        const p = parseTablePattern(`${q(schema)}.${q(name)}`);
        expect(p.exact).toBe(true);
        expect(patternMatches(p, t(schema, name), 'public')).toBe(true);
      }),
    );
  });
});

describe('specificity', () => {
  it('ranks an exact name above any pattern', () => {
    expect(specificity(parseTablePattern('s.t'))).toBeGreaterThan(specificity(parseTablePattern('s.t*')));
  });

  it('ranks an exact schema above a schema pattern', () => {
    expect(specificity(parseTablePattern('shop.*'))).toBeGreaterThan(specificity(parseTablePattern('sho*.orders')));
  });

  it('ranks a pattern with more literal characters above one with fewer', () => {
    expect(specificity(parseTablePattern('public.order_*'))).toBeGreaterThan(
      specificity(parseTablePattern('public.*')),
    );
  });
});

const rel = (schema: string, name: string, extra: Partial<CatalogRelation> = {}): CatalogRelation => ({
  table: { engine: 'postgres', schema, name, columns: [], primaryKey: [], estimatedRows: 0 } as SourceTable,
  kind: 'table',
  ...extra,
});
const entry = (text: string, more: Partial<PatternEntry> & { id?: string } = {}) => ({
  pattern: parseTablePattern(text),
  excludes: [],
  partitions: 'parent' as const,
  id: text,
  ...more,
});
const catalog = (...relations: CatalogRelation[]): Catalog => ({
  defaultSchema: 'public',
  wholeDatabase: '*.*',
  relations,
});
const picked = (r: ReturnType<typeof resolveTables<ReturnType<typeof entry>>>) =>
  r.tables.map((x) => `${x.name}<-${x.entry.id}`);

describe('resolveTables', () => {
  it('gives each table the most specific entry that matches it', () => {
    const r = resolveTables(
      [entry('public.*'), entry('public.order_*'), entry('public.order_items')],
      [],
      catalog(rel('public', 'order_items'), rel('public', 'order_notes'), rel('public', 'users')),
    );
    expect(picked(r)).toEqual([
      'public.order_items<-public.order_items',
      'public.order_notes<-public.order_*',
      'public.users<-public.*',
    ]);
  });

  it('says which entry a table got and what else matched it', () => {
    const r = resolveTables([entry('public.*'), entry('public.order_*')], [], catalog(rel('public', 'order_x')));
    expect(r.tables[0]!.why).toBe('pattern "public.order_*", more specific than "public.*"');
  });

  it('takes the entry listed first between equally specific patterns', () => {
    const r = resolveTables([entry('public.a*'), entry('public.*b')], [], catalog(rel('public', 'ab')));
    expect(picked(r)).toEqual(['public.ab<-public.a*']);
  });

  it('leaves out tables an entry excludes', () => {
    const r = resolveTables(
      [entry('public.*', { excludes: [parseTablePattern('public.tmp_*')] })],
      [],
      catalog(rel('public', 'tmp_1'), rel('public', 'users')),
    );
    expect(picked(r)).toEqual(['public.users<-public.*']);
  });

  it('leaves out tables the top-level exclude names, from every pattern', () => {
    const r = resolveTables(
      [entry('*.*')],
      [parseTablePattern('audit.*')],
      catalog(rel('audit', 'log'), rel('s', 't')),
    );
    expect(picked(r)).toEqual(['s.t<-*.*']);
  });

  it('keeps a table named exactly even when an exclude matches it', () => {
    const r = resolveTables([entry('audit.log')], [parseTablePattern('audit.*')], catalog(rel('audit', 'log')));
    expect(picked(r)).toEqual(['audit.log<-audit.log']);
  });

  it('never matches a view, materialized view or foreign table by a pattern', () => {
    const r = resolveTables(
      [entry('public.*')],
      [],
      catalog(
        rel('public', 'v', { kind: 'view' }),
        rel('public', 'm', { kind: 'materialized-view' }),
        rel('public', 'f', { kind: 'foreign' }),
      ),
    );
    expect(r.tables).toEqual([]);
  });

  it('matches a view named exactly', () => {
    const r = resolveTables([entry('public.v')], [], catalog(rel('public', 'v', { kind: 'view' })));
    expect(picked(r)).toEqual(['public.v<-public.v']);
  });

  it('backs a partitioned table up through its parent, not its partitions, by default', () => {
    const parent = rel('public', 'events', { kind: 'partitioned' });
    const part = rel('public', 'events_2026', { partitionOf: { schema: 'public', name: 'events' } });
    expect(picked(resolveTables([entry('public.*')], [], catalog(parent, part)))).toEqual(['public.events<-public.*']);
  });

  it('backs up each partition and not the parent with partitions: each', () => {
    const parent = rel('public', 'events', { kind: 'partitioned' });
    const part = rel('public', 'events_2026', { partitionOf: { schema: 'public', name: 'events' } });
    const r = resolveTables([entry('public.*', { partitions: 'each' })], [], catalog(parent, part));
    expect(picked(r)).toEqual(['public.events_2026<-public.*']);
  });

  it('reports exact names the catalog does not hold as unmatched', () => {
    const r = resolveTables([entry('public.gone'), entry('public.*')], [], catalog(rel('public', 'x')));
    expect(r.unmatched.map((e) => e.id)).toEqual(['public.gone']);
  });

  it('refuses two exact entries naming the same table', () => {
    expect(() =>
      resolveTables([entry('orders'), entry('public.orders')], [], catalog(rel('public', 'orders'))),
    ).toThrow(/name the same table/);
  });

  it('gives every matched table exactly one entry, and one that matches it', () => {
    const name = fc.stringMatching(/^[a-c_]{1,4}$/);
    const pat = fc.stringMatching(/^[a-c_*?]{1,4}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.constantFrom('s', 'u'), name), { selector: ([a, b]) => `${a}.${b}`, maxLength: 12 }),
        fc.uniqueArray(fc.tuple(fc.constantFrom('s', 'u', '*'), pat), {
          selector: ([a, b]) => `${a}.${b}`,
          maxLength: 5,
        }),
        (tables, pats) => {
          const entries = pats.map(([a, b]) => entry(`${a}.${b}`));
          const cat = catalog(...tables.map(([a, b]) => rel(a, b)));
          const r = resolveTables(entries, [], cat);
          const names = r.tables.map((x) => `${x.relation.table.schema}.${x.relation.table.name}`);
          expect(new Set(names).size).toBe(names.length);
          for (const x of r.tables) expect(patternMatches(x.entry.pattern, x.relation.table, 'public')).toBe(true);
          for (const [a, b] of tables) {
            const any = entries.some((e) => patternMatches(e.pattern, t(a, b), 'public'));
            expect(names.includes(`${a}.${b}`)).toBe(any);
          }
        },
      ),
    );
  });
});

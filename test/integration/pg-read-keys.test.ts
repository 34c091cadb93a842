import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource } from '../../src/source/open.js';
import type { SourceTable } from '../../src/source/columns.js';
import type { Source } from '../../src/source/source.js';
import { PG_URL, withPg } from '../helpers/db.js';

/**
 * Source.readKeys on PostgreSQL orders by the key's values, not by the text it returns them as:
 * a chunked incremental run's end is its `last` key, and a text order put 9999 after 10000.
 */
describe('readKeys: PostgreSQL', () => {
  let source: Source;
  let t: SourceTable;
  beforeAll(async () => {
    await withPg((c) =>
      c.query(`DROP TABLE IF EXISTS tv_read_keys;
        CREATE TABLE tv_read_keys (id bigint PRIMARY KEY, v int NOT NULL);
        INSERT INTO tv_read_keys SELECT g, 1 FROM generate_series(1, 10000) g`),
    );
    source = await openSource(PG_URL, { maxConnections: 2 });
    t = await source.describe({ schema: 'public', name: 'tv_read_keys' });
  });
  afterAll(async () => {
    await source.close();
    await withPg((c) => c.query('DROP TABLE IF EXISTS tv_read_keys'));
  });

  it('gives the numerically greatest key with last', async () => {
    expect(await source.readKeys(t, ['id'], undefined, { last: true })).toEqual([['10000']]);
  });

  it('gives keys in numeric order', async () => {
    expect(await source.readKeys(t, ['id'], 'id >= 9998')).toEqual([['9998'], ['9999'], ['10000']]);
  });
});

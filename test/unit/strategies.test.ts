import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { loadStrategy } from '../../src/config/strategy.js';

/** The example strategies (README, docker-compose.yml) must stay valid as the schema grows. */
describe('strategies/*.yaml', () => {
  const dir = fileURLToPath(new URL('../../strategies', import.meta.url));
  const env = {
    SHOP_DB_URL: 'postgres://u@db:5432/shop',
    SHOP_MYSQL_URL: 'mysql://u@db:3306/shop',
    S3_ENDPOINT: 'http://minio:9000',
    TABLEVAULT_STATE_URL: 'postgres://u@state/t',
  };
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))(
    '%s loads, and its schedule (if any) is a cron expression',
    (f) => {
      Object.assign(process.env, env);
      const s = loadStrategy(join(dir, f));
      expect(s.tables.length).toBeGreaterThan(0);
      if (s.schedule) expect(new Cron(s.schedule, { paused: true }).nextRun()).toBeInstanceOf(Date);
    },
  );
});

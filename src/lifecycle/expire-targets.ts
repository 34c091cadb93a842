import type { Strategy, StrategyEntry } from '../config/strategy.js';
import { tablePrefix, tableUrl } from '../manifest/layout.js';
import type { SourceTable } from '../source/columns.js';
import { PRIMARY_TARGET } from '../state/retention.js';
import { openDestination, type Destination } from '../store/open.js';
import { uploaderOptions } from '../backup/destination-options.js';
import type { ExpireTarget } from './expire.js';
import type { RetentionPolicy } from './retention.js';

/** `retention:` as the planner takes it; undefined when the table keeps every run. */
export function retentionPolicy(r: StrategyEntry['retention']): RetentionPolicy | undefined {
  if (!r) return undefined;
  return {
    ...(r.keep_runs !== undefined ? { keepRuns: r.keep_runs } : {}),
    ...(r.keep_days !== undefined ? { keepDays: r.keep_days } : {}),
  };
}

/** The strategy's mirrors, opened once for a run's expires; close() when done. */
export class MirrorStores {
  private readonly open: Array<{ dest: string; d: Destination; policy?: RetentionPolicy }>;

  constructor(strategy: Strategy) {
    this.open = strategy.mirror.map((m) => ({
      dest: m.dest.replace(/\/+$/, ''),
      d: openDestination(
        m.dest,
        {
          endpoint: m.endpoint ?? strategy.s3.endpoint,
          region: m.region ?? strategy.s3.region,
          profile: m.profile,
          maxAttempts: strategy.s3.max_attempts,
        },
        uploaderOptions(strategy),
      ),
      policy: retentionPolicy(m.retention),
    }));
  }

  /** The table's targets: the destination (its `prefix`, on `store`), then each mirror. */
  targets(
    table: Pick<SourceTable, 'schema' | 'name'>,
    policy: RetentionPolicy,
    primary: { destination: string; store: Destination['store']; prefix: string },
    only?: string[],
  ): ExpireTarget[] {
    return [
      {
        target: PRIMARY_TARGET,
        url: tableUrl(primary.destination, table),
        store: primary.store,
        prefix: primary.prefix,
        policy,
      },
      ...this.open
        .filter((m) => !only || only.includes(m.dest))
        .map((m) => ({
          target: m.dest,
          url: tableUrl(m.dest, table),
          store: m.d.store,
          prefix: tablePrefix(m.d.prefix, table),
          policy: m.policy ?? policy,
        })),
    ];
  }

  close(): void {
    for (const m of this.open) m.d.store.close();
  }
}

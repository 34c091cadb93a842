import type { Strategy } from '../config/strategy.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { syncPrefixes } from '../sync/sync.js';
import type { TableResult } from './run.js';

/**
 * Syncs one table's prefix (`segment`: its `<schema>.<table>` folder, `encodeTableSegment`) to each
 * `mirror:` target after a successful run: only new or changed objects travel (server-side on one
 * endpoint), the manifest last. A failed mirror fails the table
 * (its backup itself is done and its watermark stands); the next run syncs again.
 */
export async function mirrorTable(r: TableResult, segment: string, strategy: Strategy, log: Logger): Promise<void> {
  r.mirrors = [];
  for (const m of strategy.mirror) {
    const from = `${strategy.destination.replace(/\/+$/, '')}/${segment}`;
    const to = `${m.dest.replace(/\/+$/, '')}/${segment}`;
    try {
      const s = await syncPrefixes(
        {
          source: from,
          dest: to,
          sourceS3: {
            endpoint: strategy.s3.endpoint,
            region: strategy.s3.region,
            maxAttempts: strategy.s3.max_attempts,
          },
          destS3: {
            endpoint: m.endpoint ?? strategy.s3.endpoint,
            region: m.region ?? strategy.s3.region,
            profile: m.profile,
            maxAttempts: strategy.s3.max_attempts,
          },
          storageClass: m.storage_class,
          sse: m.sse,
          sseKmsKeyId: m.sse_kms_key_id,
        },
        { logger: log },
      );
      const copied = s.copied.serverSide + s.copied.streamed;
      r.mirrors.push({ dest: to, copied, skipped: s.skipped, failed: s.failed, bytes: s.bytes });
      if (s.failed > 0) {
        r.status = 'failed';
        r.error = `backed up, but ${s.failed} object(s) could not be mirrored to ${to} (first: ${s.failures[0]?.key}: ${s.failures[0]?.error}); the next run mirrors again`;
      }
    } catch (e) {
      r.mirrors.push({ dest: to, copied: 0, skipped: 0, failed: 0, bytes: 0, error: errorMessage(e) });
      r.status = 'failed';
      r.error = `backed up, but mirroring to ${to} failed: ${errorMessage(e)}; the next run mirrors again`;
      log.error({ err: errorMessage(e), mirror: to }, 'mirror failed');
    }
  }
}

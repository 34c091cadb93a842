import type { Logger } from '../log.js';
import type { TablePlan } from '../backup/incremental-plan.js';
import type { KeptFrom } from '../manifest/types.js';
import { incrementalManifest, writeManifest } from '../manifest/write.js';
import type { ManifestState, RetentionBoundary, StateRepository } from '../state/repository.js';
import { PRIMARY_TARGET } from '../state/retention.js';
import type { ObjectStore } from '../store/store.js';
import { tableManifestInput } from './compact.js';
import { planTarget, type RetentionPolicy, type TargetPlan } from './retention.js';

/**
 * Expire, carried out for one incremental table, under its lock: first the destination, then
 * each mirror. Per target, in this order, so a kill anywhere leaves every manifest naming only
 * objects that are there, and the next expire finishes the job:
 *
 * 1. the new boundary (oldest kept run, what is listed) is committed in the state store;
 * 2. the target's manifest is rewritten from it: expired objects are no longer named;
 * 3. the objects between what was swept and the boundary are deleted, in batches;
 * 4. the boundary is recorded swept.
 *
 * A mirror keeps at least what the destination keeps (its own `retention:` may keep more), and
 * only what it holds: a mirror missing objects its boundary lists (it was added later, or its
 * syncs failed) keeps from the oldest run whose objects it has.
 */

export interface ExpireTarget {
  /** PRIMARY_TARGET, or a mirror's dest URL. */
  target: string;
  /** The table's folder on that target, for messages: its URL. */
  url: string;
  store: ObjectStore;
  /** The table's prefix on that store. */
  prefix: string;
  /** The table's retention, or a mirror's own. */
  policy: RetentionPolicy;
}

export interface ExpireContext {
  state: StateRepository;
  log: Logger;
  now: Date;
  dryRun: boolean;
  /** The destination first, then the mirrors. */
  targets: ExpireTarget[];
  /** Test hook: expire-committed, expire-manifest, expire-delete (after each batch). */
  hook?: (point: string) => void | Promise<void>;
}

export interface TargetExpiry {
  dest: string;
  /** ok: moved or deleted something; current: nothing to do; behind: a mirror missing the objects a kept run reads. */
  status: 'ok' | 'current' | 'behind';
  oldestKept?: KeptFrom;
  runsKept: number;
  /** Runs expired by this expire (with --dry-run: it would). */
  runsExpired: number;
  /** Objects deleted (would be) and their bytes. */
  objects: number;
  bytes: number;
  keys: string[];
  error?: string;
}

const DELETE_BATCH = 1000;

export async function expireTable(plan: TablePlan, ctx: ExpireContext): Promise<TargetExpiry[]> {
  const out: TargetExpiry[] = [];
  let primary: RetentionBoundary | undefined;
  for (const t of ctx.targets) {
    const ms = await ctx.state.manifestState(plan.tableKey, t.target);
    const mirror = t.target !== PRIMARY_TARGET;
    let held: Set<string> | undefined;
    if (mirror) {
      held = new Set<string>();
      for await (const k of t.store.list(`${t.prefix}/`)) held.add(k.slice(t.prefix.length + 1));
    }
    const p = planTarget(ms, t.policy, ctx.now, {
      // a mirror never keeps less than the destination, and lists only what it holds
      ...(mirror ? { atMostSeq: primary?.keptLastSeq ?? ms.retention?.kept_last_seq } : {}),
      ...(held ? { fits: (b) => namedBy(ms, b, plan.tablePrefix).every((n) => held.has(n)) } : {}),
    });
    if (!p) {
      const none = !ms.files.length;
      out.push({
        dest: t.url,
        status: none ? 'current' : 'behind',
        runsKept: 0,
        runsExpired: 0,
        objects: 0,
        bytes: 0,
        keys: [],
        ...(none
          ? {}
          : { error: 'the mirror lacks objects of the latest run; the next backup syncs them, then expire' }),
      });
      continue;
    }
    if (!mirror) primary = p.boundary;
    out.push(await expireTarget(plan, t, p, held, ctx));
  }
  return out;
}

/** The relative names of the objects a manifest lists under boundary `b`. */
function namedBy(ms: ManifestState, b: RetentionBoundary, tablePrefix: string): string[] {
  const rel = (key: string) => key.slice(tablePrefix.length + 1);
  return [
    ...ms.files.filter((f) => f.seq >= b.keptSeq).map((f) => rel(f.object_key)),
    ...ms.generations
      .filter((g) => g.generation >= b.keptGen)
      .flatMap((g) => (JSON.parse(g.files_json ?? '[]') as Array<{ key: string }>).map((o) => rel(o.key))),
  ];
}

/** One target's expiry as planned; `held`: what a mirror holds, by relative name. */
async function expireTarget(
  plan: TablePlan,
  t: ExpireTarget,
  p: TargetPlan,
  held: Set<string> | undefined,
  ctx: ExpireContext,
): Promise<TargetExpiry> {
  const { state, log } = ctx;
  const { points, i, boundary: b, record, sweep } = p;
  const unswept = sweep.from.seq < sweep.to.seq || sweep.from.gen < sweep.to.gen;
  const mirror = t.target !== PRIMARY_TARGET;
  const oldestKept: KeptFrom = {
    runId: b.keptRun,
    ...(b.keptBackupRun ? { backupRunId: b.keptBackupRun } : {}),
    at: b.keptAt,
  };
  const doomed = unswept
    ? await state.unlistedObjects(plan.tableKey, {
        swept_seq: sweep.from.seq,
        kept_seq: sweep.to.seq,
        swept_gen: sweep.from.gen,
        kept_gen: sweep.to.gen,
      })
    : { files: [], generations: [] };
  const rel = (key: string) => key.slice(plan.tablePrefix.length + 1);
  const objects = [
    ...doomed.files.map((f) => ({ key: f.object_key, bytes: Number(f.bytes) })),
    ...doomed.generations.flatMap((g) => JSON.parse(g.files_json ?? '[]') as Array<{ key: string; bytes: number }>),
  ]
    .filter((o) => !held || held.has(rel(o.key)))
    .map((o) => ({ key: `${t.prefix}/${rel(o.key)}`, bytes: o.bytes }));
  const result: TargetExpiry = {
    dest: t.url,
    status: record || unswept ? 'ok' : 'current',
    oldestKept,
    runsKept: points.length - i,
    runsExpired: record ? i : 0,
    objects: objects.length,
    bytes: objects.reduce((n, o) => n + o.bytes, 0),
    keys: objects.map((o) => o.key),
  };
  // nothing to record or delete: the manifest is still rewritten once an expire has recorded a
  // boundary, since one killed after recording it may not have written it
  if (ctx.dryRun || (!record && !unswept && !mirror && !p.recorded)) return result;
  if (record) {
    await state.advanceRetention(plan.tableKey, t.target, b);
    await ctx.hook?.('expire-committed');
  }
  // the manifest names only what the boundary lists, before any of the rest is deleted (a
  // mirror's always: its sync copies the destination's, which may list less than it keeps)
  const after = await state.manifestState(plan.tableKey, t.target);
  await writeManifest(t.store, t.prefix, incrementalManifest(plan.tablePrefix, tableManifestInput(plan, after)));
  await ctx.hook?.('expire-manifest');
  for (let k = 0; k < objects.length; k += DELETE_BATCH) {
    await t.store.delete(objects.slice(k, k + DELETE_BATCH).map((o) => o.key));
    await ctx.hook?.('expire-delete');
  }
  if (unswept) await state.markSwept(plan.tableKey, t.target, sweep.to);
  if (result.status === 'ok')
    log.info(
      { dest: t.url, oldestKept: b.keptRun, runsExpired: i, objects: result.objects, bytes: result.bytes },
      'expired',
    );
  return result;
}

import { qualifiedName } from './source/columns.js';
import type { Source } from './source/source.js';
import type { ObjectStore } from './store/store.js';

/** What a long command reports as it goes; every field is an increment except `estimatedRows`. */
export interface ProgressEvent {
  table?: string;
  rows?: number;
  /** The planner's row estimate for `table` (may be 0 or wrong). */
  estimatedRows?: number;
  bytes?: number;
  objects?: number;
  skipped?: number;
}

export type ProgressSink = (e: ProgressEvent) => void;

/** A source that reports each table's row estimate when described and its rows as they are read. */
export function observedSource(source: Source, sink?: ProgressSink): Source {
  if (!sink) return source;
  return new Proxy(source, {
    get(target, prop, receiver) {
      if (prop === 'describe') {
        return async (...args: Parameters<Source['describe']>) => {
          const t = await target.describe(...args);
          sink({ table: qualifiedName(t), estimatedRows: t.estimatedRows });
          return t;
        };
      }
      if (prop === 'read') {
        return async function* (...args: Parameters<Source['read']>) {
          const table = qualifiedName(args[0]);
          for await (const b of target.read(...args)) {
            sink({ table, rows: b.numRows });
            yield b;
          }
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A store that reports the bytes of each object it stores. */
export function observedStore(store: ObjectStore, sink?: ProgressSink): ObjectStore {
  if (!sink) return store;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'put') {
        return async (...args: Parameters<ObjectStore['put']>) => {
          const r = await target.put(...args);
          sink({ bytes: r.bytes, objects: 1 });
          return r;
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

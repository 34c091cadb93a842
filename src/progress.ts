import { qualifiedName } from './source/columns.js';
import type { Source } from './source/source.js';
import type { ObjectStore } from './store/store.js';
import { withMethods } from './wrap.js';

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
  return withMethods(source, {
    describe: async (...args) => {
      const t = await source.describe(...args);
      sink({ table: qualifiedName(t), estimatedRows: t.estimatedRows });
      return t;
    },
    read: async function* (...args) {
      const table = qualifiedName(args[0]);
      for await (const b of source.read(...args)) {
        sink({ table, rows: b.numRows });
        yield b;
      }
    },
  });
}

/** A store that reports the bytes of each object it stores. */
export function observedStore(store: ObjectStore, sink?: ProgressSink): ObjectStore {
  if (!sink) return store;
  return withMethods(store, {
    put: async (...args) => {
      const r = await store.put(...args);
      sink({ bytes: r.bytes, objects: 1 });
      return r;
    },
  });
}

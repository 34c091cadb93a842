import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { filesThrough, runEnd, type BackupFile, type BackupManifest } from '../../src/manifest/view.js';

/**
 * The file choice of restore and verify with base generations (filesThrough): a model of the
 * objects' contents (keys with cursors; tombstones) restored the way the loaders do (newest cursor
 * of the live versions, NULL lowest, the later object on a tie; a tombstone deletes the versions
 * before it). A generation is modelled as compaction writes it: the restore of the files it covers.
 */

type Version = { key: number; cursor: number | null; tag?: string };
type Content = { deletes: number[] } | { rows: Version[] };

function restoreModel(files: BackupFile[], content: Map<string, Content>): Map<number, string> {
  const live = new Map<number, Version>();
  for (const f of files) {
    const c = content.get(f.name)!;
    if ('deletes' in c) {
      for (const k of c.deletes) live.delete(k);
      continue;
    }
    for (const v of c.rows) {
      const prev = live.get(v.key);
      if (!prev || prev.cursor === null || (v.cursor !== null && v.cursor >= prev.cursor)) live.set(v.key, v);
    }
  }
  return new Map([...live].map(([k, v]) => [k, `${v.tag ?? ''}@${v.cursor}`]));
}

const version = fc.record({
  key: fc.integer({ min: 0, max: 6 }),
  cursor: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
});
const fileContent = fc.oneof(
  { weight: 4, arbitrary: fc.array(version, { maxLength: 5 }).map((rows) => ({ rows })) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }).map((deletes) => ({ deletes })) },
);

/** A manifest of `contents` (run i wrote file i, two files per run), generations at `throughs`, and every object's content. */
function build(contents: Content[], throughs: number[]) {
  const content = new Map<string, Content>();
  const files: BackupFile[] = contents.map((c, i) => {
    const name = `incr-${i}`;
    content.set(name, 'rows' in c ? { rows: c.rows.map((v) => ({ ...v, tag: `f${i}` })) } : c);
    return {
      name,
      rows: 'rows' in c ? c.rows.length : c.deletes.length,
      bytes: 1,
      sha256: '',
      runId: `run-${Math.floor(i / 2)}`,
      ...('deletes' in c ? { kind: 'deletes' as const } : {}),
    };
  });
  const m: BackupManifest = {
    format: 'tablevault.incremental.v1',
    source: { engine: 'postgres', schema: 's', table: 't' },
    columns: [],
    primaryKey: ['id'],
    cursor: 'at',
    rows: 0,
    files,
    generations: [],
  };
  for (const [g, through] of [...new Set(throughs)].sort((a, b) => a - b).entries()) {
    const state = restoreModel(filesThrough(m, through).files, content);
    const name = `gen-${g + 1}/part-0`;
    // a generation's row keeps its version's cursor and its content (the tag names the version)
    content.set(name, {
      rows: [...state].map(([key, v]) => {
        const [tag, cursor] = v.split('@') as [string, string];
        return { key, cursor: cursor === 'null' ? null : Number(cursor), tag };
      }),
    });
    m.generations!.push({ id: g + 1, through, files: [{ name, rows: state.size, bytes: 1, sha256: '' }] });
  }
  return { m, content };
}

const history = fc.array(fileContent, { minLength: 1, maxLength: 12 }).chain((contents) =>
  fc.record({
    contents: fc.constant(contents),
    throughs: fc.array(fc.integer({ min: 1, max: contents.length }), { maxLength: 4 }),
  }),
);

describe('filesThrough (the objects a restore of a point reads)', () => {
  it('restores every point, latest and as of each run, as the files alone do', () => {
    fc.assert(
      fc.property(history, ({ contents, throughs }) => {
        const { m, content } = build(contents, throughs);
        for (let end = 0; end <= m.files.length; end++)
          expect(restoreModel(filesThrough(m, end).files, content)).toEqual(
            restoreModel(m.files.slice(0, end), content),
          );
      }),
    );
  });

  it('starts at the newest generation covering at most the point, then the files after it', () => {
    fc.assert(
      fc.property(history, ({ contents, throughs }) => {
        const { m } = build(contents, throughs);
        for (let end = 0; end <= m.files.length; end++) {
          const c = filesThrough(m, end);
          const g = m.generations!.filter((x) => x.through <= end).at(-1);
          expect(c.generation).toBe(g?.id);
          expect(c.files.map((f) => f.name)).toEqual([
            ...(g?.files.map((f) => f.name) ?? []),
            ...m.files.slice(g?.through ?? 0, end).map((f) => f.name),
          ]);
        }
      }),
    );
  });

  it('reads the newest generation and nothing else when it covers every file', () => {
    const { m } = build([{ rows: [{ key: 1, cursor: 1 }] }, { rows: [] }], [1, 2]);
    expect(filesThrough(m).files.map((f) => f.name)).toEqual(['gen-2/part-0']);
  });
});

describe('runEnd', () => {
  it('is one past the last file of the run, by its table run or its backup run', () => {
    const { m } = build([{ rows: [] }, { rows: [] }, { rows: [] }], []);
    m.files[2]!.backupRunId = 'whole';
    expect(runEnd(m, 'run-0')).toBe(2);
    expect(runEnd(m, 'whole')).toBe(3);
  });

  it('is -1 for a run that wrote no file', () => {
    expect(runEnd(build([{ rows: [] }], []).m, 'other')).toBe(-1);
  });
});

import { inputError } from '../errors.js';
import type { Strategy } from './strategy.js';

/** The strategy's tables, or only those named by `--only` (each must be in the file). */
export function selectTables(s: Strategy, only?: string[]): Strategy['tables'] {
  if (!only?.length) return s.tables;
  const unknown = only.filter((o) => !s.tables.some((t) => t.table === o));
  if (unknown.length)
    throw inputError(
      'ONLY',
      `--only ${unknown.join(', ')}: not in ${s.file}; it lists ${s.tables.map((t) => t.table).join(', ')}`,
    );
  return s.tables.filter((t) => only.includes(t.table));
}

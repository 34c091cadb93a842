/** SQL text helpers that are the same in every engine (identifier quoting is each engine's: `engine.quoteIdent`). */

/** The conditions that are given, each parenthesized, joined with AND; undefined when none is. */
export function sqlAnd(...conds: Array<string | undefined | false>): string | undefined {
  const given = conds.filter((c): c is string => Boolean(c));
  return given.length ? given.map((c) => `(${c})`).join(' AND ') : undefined;
}

/** Identifier quoting per engine, and SQL text helpers, free of driver imports. */
export function quotePgIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteMysqlIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** The conditions that are given, each parenthesized, joined with AND; undefined when none is. */
export function sqlAnd(...conds: Array<string | undefined | false>): string | undefined {
  const given = conds.filter((c): c is string => Boolean(c));
  return given.length ? given.map((c) => `(${c})`).join(' AND ') : undefined;
}

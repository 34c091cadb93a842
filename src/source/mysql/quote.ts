/** A MySQL identifier, backquoted (free of driver imports). */
export function quoteMysqlIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

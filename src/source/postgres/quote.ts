/** A PostgreSQL identifier, double-quoted (free of driver imports). */
export function quotePgIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

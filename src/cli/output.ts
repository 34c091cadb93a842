export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** A plain left-aligned text table. */
export function printTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Exit code of a command over a strategy's tables (compact, expire): 0 none failed, 1 all failed, 3 some failed. */
export function tablesExitCode(tables: Array<{ status: string }>): number {
  const failed = tables.filter((t) => t.status === 'failed').length;
  if (failed === 0) return 0;
  return failed === tables.length ? 1 : 3;
}

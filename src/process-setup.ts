/**
 * Process-wide settings for tablevault's entry points (CLI, demo, bench).
 * The AWS SDK warns on every start that its 2027 releases will need Node 22: nothing a run can act on.
 */
export function quietKnownWarnings(): void {
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (!`${w.name} ${w.message}`.includes('NodeVersionSupportWarning'))
      process.stderr.write(`${w.name}: ${w.message}\n`);
  });
}

import { inputError } from '../errors.js';
import { expiredRun, filesThrough, runEnd, type BackupManifest, type FileChoice } from '../manifest/view.js';

/**
 * Which objects to apply: all (the latest state), or an incremental backup's as of the last file
 * of run `asOf` (the table's run, or the whole backup run it was part of), each starting at the
 * newest base generation that fits (filesThrough); tombstone objects of the runs up to it
 * included, later ones not, like row objects. A full export keeps only its latest copy: as
 * of the backup run that made it, or not at all.
 */
export function selectFiles(m: BackupManifest, asOf: string | undefined, from: string): FileChoice {
  if (m.format !== 'tablevault.incremental.v1') {
    if (asOf === undefined || m.backupRunId === asOf) return { files: m.files };
    throw inputError(
      'AS_OF',
      `--as-of ${asOf}: ${from} is a full export, which keeps only its latest copy${m.backupRunId ? ` (made by backup run ${m.backupRunId})` : ''}; restore it without --as-of`,
    );
  }
  if (asOf === undefined) return filesThrough(m);
  if (m.keptFrom && expiredRun(m, asOf)) {
    const k = m.keptFrom;
    throw inputError(
      'AS_OF',
      `--as-of ${asOf}: ${from} no longer keeps that run (retention expired it, or it never wrote there); the oldest kept run is ${k.runId}${k.backupRunId ? ` (backup run ${k.backupRunId})` : ''} of ${k.at}: restore --as-of it or a later run`,
    );
  }
  const end = runEnd(m, asOf);
  if (end < 0) {
    const runs = [...new Set(m.files.map((f) => f.runId))];
    throw inputError(
      'AS_OF',
      `--as-of ${asOf}: no backup run with that id wrote to ${from}; its runs are ${runs.slice(-5).join(', ')}${runs.length > 5 ? ' (last 5)' : ''}`,
    );
  }
  return filesThrough(m, end);
}

import { loadStrategy } from '../config/strategy.js';
import { inputError } from '../errors.js';
import { onlyTables, planRunTables } from '../plan/run-tables.js';
import type { S3Options } from '../s3/client.js';
import { chooseBackupTables } from '../manifest/backup-tables.js';
import { tableUrl } from '../manifest/layout.js';
import { parseTableRef, quotedName } from '../source/columns.js';
import { openSource } from '../source/open.js';

/** One table to compare: where its source is and where its backup is. */
export interface VerifyJob {
  source: string;
  table: string;
  backup: string;
  s3?: S3Options;
}

/** What to verify: a strategy file (and --only), or --source, --table and --dest, or --source and --dest (every table backed up there). */
export interface VerifyTargets {
  strategy?: string;
  only?: string[];
  source?: string;
  table?: string;
  dest?: string;
  /** Without --table: only these tables of the backup (patterns), less `exclude`. */
  tables?: string[];
  exclude?: string[];
  /** Without --table: the tables are in this schema (MySQL: database) of --source, not their own (a restore drill's target). */
  targetSchema?: string;
  s3?: S3Options;
}

/**
 * The tables to verify: every table (or --only some) of a strategy file; every table backed up
 * under --dest (or those --tables name), in --source (in --target-schema when given); or the one
 * --source/--table/--dest name.
 */
export async function verifyJobs(opts: VerifyTargets): Promise<VerifyJob[]> {
  const jobs: VerifyJob[] = [];
  if (opts.strategy) {
    const s = loadStrategy(opts.strategy);
    const source = await openSource(s.source);
    try {
      // the tables a backup run of the file would back up (patterns matched against the catalog)
      const { tables } = await planRunTables(s, source, { prefix: '', destination: s.destination });
      for (const t of onlyTables(tables, opts.only, s.file)) {
        if (t.skipped) continue;
        jobs.push({
          source: s.source,
          table: quotedName(t.table),
          backup: tableUrl(s.destination, t.table),
          s3: { endpoint: s.s3.endpoint, region: s.s3.region },
        });
      }
    } finally {
      await source.close().catch(() => {});
    }
  } else if (opts.source && opts.dest && !opts.table) {
    // every table backed up under --dest (or those --tables name), each compared with its copy in --source
    for (const t of await chooseBackupTables(opts.dest, opts.s3, opts.tables, opts.exclude))
      jobs.push({
        source: opts.source,
        table: quotedName({ schema: opts.targetSchema ?? t.schema, name: t.name }),
        backup: t.url,
        s3: opts.s3,
      });
  } else {
    if (!opts.source || !opts.table || !opts.dest)
      throw inputError(
        'OPTION',
        'verify needs a strategy file, or --source and --dest (every table backed up there), or --source, --table and --dest',
      );
    const dest = opts.dest.replace(/\/+$/, '');
    // --dest as for export (the prefix above <schema>.<table>) or the table's own prefix
    const source = await openSource(opts.source);
    let backup = dest;
    try {
      const described = await source.describe(parseTableRef(opts.table));
      const own = tableUrl(dest, described);
      if (!dest.endsWith(own.slice(dest.length))) backup = own;
    } finally {
      await source.close().catch(() => {});
    }
    jobs.push({ source: opts.source, table: opts.table, backup, s3: opts.s3 });
  }
  return jobs;
}

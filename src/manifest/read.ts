import { z } from 'zod';
import { inputError } from '../errors.js';
import { COMPRESSIONS, type CompressionName } from '../parquet/compression.js';
import type { ColumnKind, ColumnSpec } from '../source/columns.js';
import type { ObjectStore } from '../store/store.js';
import { MANIFEST_NAME, manifestKey } from './layout.js';
import {
  EXPORT_FORMAT,
  INCREMENTAL_FORMAT,
  MANIFEST_FORMATS,
  type ExportManifest,
  type GenerationEntry,
  type IncrementalManifest,
  type IncrementalObjectEntry,
  type Manifest,
  type ManifestSource,
  type ObjectEntry,
  type SchemaVersionEntry,
} from './types.js';

// Each schema is typed against its interface in types.ts, so the two cannot drift apart.

// every kind, or this does not compile: a kind added to ColumnKind must be added here
const KINDS: Record<ColumnKind, true> = {
  bool: true,
  int8: true,
  int16: true,
  int32: true,
  int64: true,
  uint8: true,
  uint16: true,
  uint32: true,
  uint64: true,
  float32: true,
  float64: true,
  decimal: true,
  string: true,
  json: true,
  binary: true,
  date: true,
  time: true,
  timestamp: true,
  timestamptz: true,
  list: true,
};

const Column: z.ZodType<ColumnSpec> = z.lazy(() =>
  z.object({
    name: z.string(),
    dbType: z.string(),
    nullable: z.boolean(),
    kind: z.custom<ColumnKind>(
      (k) => typeof k === 'string' && Object.hasOwn(KINDS, k),
      'a column kind this tablevault knows',
    ),
    precision: z.number().optional(),
    scale: z.number().optional(),
    element: Column.optional(),
    unknownType: z.boolean().optional(),
  }),
);

const Source: z.ZodType<ManifestSource> = z.object({
  engine: z.enum(['postgres', 'mysql']),
  schema: z.string(),
  table: z.string(),
});
const Key = z.array(z.string());
const Count = z.number().int().nonnegative();

const objectShape = { name: z.string().min(1), rows: Count, bytes: Count, sha256: z.string() };
const ObjectSchema: z.ZodType<ObjectEntry> = z.object(objectShape);

const ExportSchema: z.ZodType<ExportManifest, z.ZodTypeDef, unknown> = z.object({
  format: z.literal(EXPORT_FORMAT),
  tablevaultVersion: z.string(),
  source: Source,
  columns: z.array(Column),
  primaryKey: Key.default([]),
  compression: z.custom<CompressionName>(
    (c) => COMPRESSIONS.includes(c as CompressionName),
    `one of ${COMPRESSIONS.join(', ')}`,
  ),
  rows: Count.default(0),
  files: z.array(ObjectSchema).default([]),
  completedAt: z.string(),
  backupRunId: z.string().optional(),
});

const IncrementalObject: z.ZodType<IncrementalObjectEntry> = z.object({
  ...objectShape,
  schemaVersion: z.number().int().positive().optional(),
  after: Key.nullable(),
  through: Key,
  runId: z.string(),
  backupRunId: z.string().optional(),
  late: z.boolean().optional(),
  kind: z.literal('deletes').optional(),
});

const SchemaVersion: z.ZodType<SchemaVersionEntry> = z.object({
  version: z.number().int().positive(),
  columns: z.array(Column),
  keyColumns: Key,
  changes: z.array(z.string()),
  reset: z.boolean(),
  createdAt: z.string(),
});

const Generation: z.ZodType<GenerationEntry> = z.object({
  id: z.number().int().positive(),
  through: Count,
  runId: z.string(),
  backupRunId: z.string().optional(),
  schemaVersion: z.number().int().positive(),
  rows: Count,
  files: z.array(z.object({ ...objectShape, schemaVersion: z.number().int().positive() })),
  createdAt: z.string(),
});

const IncrementalSchema: z.ZodType<IncrementalManifest, z.ZodTypeDef, unknown> = z.object({
  format: z.literal(INCREMENTAL_FORMAT),
  tablevaultVersion: z.string(),
  source: Source,
  columns: z.array(Column),
  keyColumns: Key.min(1),
  primaryKey: Key.min(1).optional(),
  schemaVersion: z.number().int().positive().optional(),
  schemas: z.array(SchemaVersion).optional(),
  watermark: Key.nullable(),
  rows: Count.default(0),
  files: z.array(IncrementalObject).default([]),
  generations: z.array(Generation).optional(),
  keptFrom: z.object({ runId: z.string(), backupRunId: z.string().optional(), at: z.string() }).optional(),
  updatedAt: z.string(),
});

/**
 * A manifest's JSON, checked and typed. `where` names it in errors (its URL). A format this
 * version does not know fails with MANIFEST_FORMAT and says to upgrade; a known format with
 * missing or mistyped fields fails with MANIFEST_FORMAT and names the first such field.
 */
export function parseManifest(json: unknown, where: string): Manifest {
  const format = typeof json === 'object' && json !== null ? (json as { format?: unknown }).format : undefined;
  if (!MANIFEST_FORMATS.includes(format as Manifest['format'])) {
    throw inputError(
      'MANIFEST_FORMAT',
      `${where} has format ${String(format)}, which this tablevault does not read; upgrade tablevault`,
    );
  }
  const parsed = format === EXPORT_FORMAT ? ExportSchema.safeParse(json) : IncrementalSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw inputError(
      'MANIFEST_FORMAT',
      `${where} is not a valid ${String(format)} manifest (${issue.path.join('.') || 'document'}: ${issue.message}); it was changed or damaged: back the table up again, or restore from a copy of the bucket`,
    );
  }
  return parsed.data;
}

/**
 * Reads and checks the manifest under a table's prefix. `label` names the prefix in errors
 * (the URL the user gave): NO_MANIFEST when there is none.
 */
export async function readManifest(store: ObjectStore, prefix: string, label: string): Promise<Manifest> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(manifestKey(prefix));
  } catch (e) {
    if ((e as { code?: string }).code === 'NOT_FOUND') {
      throw inputError(
        'NO_MANIFEST',
        `${label} holds no ${MANIFEST_NAME}: give the table's own prefix (…/<schema>.<table>) of a finished export or backup`,
        e,
      );
    }
    throw e;
  }
  const where = `${label}/${MANIFEST_NAME}`;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw inputError(
      'MANIFEST_FORMAT',
      `${where} is not valid JSON (${(e as Error).message}); it was changed or damaged: back the table up again, or restore from a copy of the bucket`,
      e,
    );
  }
  return parseManifest(json, where);
}

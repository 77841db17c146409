/** Fingerprints: equal fingerprints mean equal outputs, so a committed stage can be skipped. */
import { createHash } from 'node:crypto';
import type { FileTableConfig, TableConfig } from '../config/types';
import { HASH_ENCODING_VERSION } from '../engine/hashing';
import type { SourceFile } from '../sources/source';
import type { BaseRef } from './types';

function sha256(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/**
 * What the hashed batch depends on: the table's shape, how it is read, and the files' names and
 * contents, by checksum or S3 ETag (not their times: a re-run that reads the same rows again
 * commits nothing new).
 * `output` names what the stage writes when it is not the hashed rows (a change-record table's
 * events), so that no other kind of file is ever taken for it.
 */
export function hashFingerprint(table: FileTableConfig, files: readonly SourceFile[], output?: string): string {
  // A column's `source` is in `keys` and `columns`: reading another column is another batch.
  const { keys, columns, ignore, source, changes } = table;
  const contents = files.map(({ path, size, checksum }) => ({ path, size, checksum }));
  // Left out when refused (the default), so that configs without it keep their fingerprints.
  const missingColumns = source.missingColumns === 'refuse' ? undefined : source.missingColumns;
  return sha256({ v: HASH_ENCODING_VERSION, keys, columns, ignore, format: source.format, csv: source.csv, extraColumns: source.extraColumns, missingColumns, files: contents, changes, output });
}

/** What the stored hashes mean: two states compare only when their shapes are equal. */
export function hashShape(table: TableConfig): string {
  const { keys, columns, ignore } = table;
  // Marking a column sensitive moves it to other outputs; its hashes still compare. Reading it
  // from another source column (`source`) changes no output's shape.
  const plain = (cs: typeof columns) => cs.map(({ name, type }) => ({ name, type }));
  // A change-record table's ordering state holds values of the orderBy types.
  const orderTypes = table.changes?.orderBy.map((o) => o.type);
  return sha256({ v: HASH_ENCODING_VERSION, keys: plain(keys), columns: plain(columns), ignore: ignore.map((n) => n.toLowerCase()).sort(), orderTypes });
}

/**
 * The diff's files as this version writes them (2: history files without EFF_START_DATE; 3: row
 * groups of OUTPUT_ROW_GROUP_ROWS), so no stage file of another is taken for them.
 */
const DIFF_FILES_VERSION = 3;

/** What the diff stages and the write depend on. */
export function runFingerprint(hashFp: string, table: TableConfig, businessDate: string, base: BaseRef | null): string {
  return sha256({ hashFp, mode: table.mode, businessDate, base, files: DIFF_FILES_VERSION });
}

/** The columns a batch's files must have, checked file by file before they are read. */
import type { FileTableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { DataError } from '../errors';
import { type BatchFile, describeSource } from './file-source';

/**
 * Every configured column must be in every file (a file without it would read as NULLs). Extra
 * columns are ignored unless the source says `extraColumns: refuse`. Returns the batch's type of
 * each column by lower-cased name, as the hash stage reads it (files combined by name).
 */
export async function checkColumns(
  session: Session,
  table: FileTableConfig,
  files: readonly BatchFile[],
  configured: readonly { name: string }[] = [...table.keys, ...table.columns],
): Promise<Map<string, string>> {
  const wanted = new Set(configured.map((c) => c.name.toLowerCase()));
  let types = new Map<string, string>();
  // File by file: the union of several files would hide a gap in one of them.
  for (const file of files) {
    const context = { dataset: table.dataset, table: table.name, file: file.path };
    types = await describeSource(session, table, [file]);
    const present = [...types.keys()];
    const folded = new Set(present.map((n) => n.toLowerCase()));
    const missing = configured.filter((c) => !folded.has(c.name.toLowerCase())).map((c) => c.name);
    if (missing.length > 0) {
      throw new DataError(`source is missing configured column(s) ${missing.map((m) => `"${m}"`).join(', ')}`, { ...context, column: missing.join(',') });
    }
    const extra = present.filter((n) => !wanted.has(n.toLowerCase()));
    if (extra.length > 0 && table.source.extraColumns === 'refuse') {
      throw new DataError(`source has column(s) not in the config: ${extra.map((m) => `"${m}"`).join(', ')} (extraColumns: refuse)`, {
        ...context,
        column: extra.join(','),
      });
    }
  }
  if (files.length > 1) types = await describeSource(session, table, files);
  return new Map([...types].map(([n, t]) => [n.toLowerCase(), t]));
}

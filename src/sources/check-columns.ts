/** The columns a batch's files must have, checked file by file before they are read. */
import { columnLabel, sourceName } from '../config/columns';
import type { ColumnSpec, FileTableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { duckdbTypeName } from '../engine/strict-cast';
import { DataError, type ErrorContext } from '../errors';
import { type BatchFile, describeSource } from './file-source';

type NamedColumn = Pick<ColumnSpec, 'name' | 'source'>;

/** What the hash stage reads: each column's DuckDB type by lower-cased source name, and the configured columns no file has. */
export interface BatchColumns {
  types: Map<string, string>;
  /** Read as NULLs of their configured type (missingColumns: null). */
  absent: ColumnSpec[];
}

/** The source lacks configured columns: named as configured and as read. */
export function missingColumnsError(missing: readonly NamedColumn[], context: ErrorContext, note = ''): DataError {
  return new DataError(`source is missing configured column(s) ${missing.map(columnLabel).join(', ')}${note}`, {
    ...context,
    column: missing.map((c) => c.name).join(','),
  });
}

/**
 * Every configured column must be in every file (a file without it would read as NULLs), unless
 * the source says `missingColumns: null`, which lets a non-key column be absent. Extra columns
 * are ignored unless the source says `extraColumns: refuse`. Columns are looked up by their
 * source name, case-insensitively; the types are those of the files combined by name.
 */
export async function checkColumns(
  session: Session,
  table: FileTableConfig,
  files: readonly BatchFile[],
  configured: readonly NamedColumn[] = [...table.keys, ...table.columns],
): Promise<BatchColumns> {
  const wanted = new Set(configured.map((c) => sourceName(c).toLowerCase()));
  let types = new Map<string, string>();
  // File by file: the union of several files would hide a gap in one of them.
  for (const file of files) {
    const context = { dataset: table.dataset, table: table.name, file: file.path };
    types = await describeSource(session, table, [file]);
    const present = [...types.keys()];
    const folded = new Set(present.map((n) => n.toLowerCase()));
    const refused = configured.filter((c) => !folded.has(sourceName(c).toLowerCase()) && !mayBeAbsent(table, c));
    if (refused.length > 0) {
      throw missingColumnsError(refused, context, table.source.missingColumns === 'null' ? ' (a key column is never read as NULL, whatever missingColumns says)' : '');
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
  const read = new Map([...types].map(([n, t]) => [n.toLowerCase(), t]));
  const absent = [...table.keys, ...table.columns].filter((c) => !read.has(sourceName(c).toLowerCase()));
  for (const c of absent) read.set(sourceName(c).toLowerCase(), duckdbTypeName(c.type));
  return { types: read, absent };
}

/** A non-key column a file may lack when the source says `missingColumns: null`. */
function mayBeAbsent(table: FileTableConfig, column: NamedColumn): boolean {
  return table.source.missingColumns === 'null' && !table.keys.some((k) => k.name.toLowerCase() === column.name.toLowerCase());
}

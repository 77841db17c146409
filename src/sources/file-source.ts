/** File sources (CSV, Parquet, JSON): which files a batch is, and how DuckDB reads them. */
import { stat } from 'node:fs/promises';
import type { FileSourceSpec, FileTableConfig } from '../config/types';
import { DataError } from '../errors';
import type { Session } from '../engine/duckdb';
import { fileListLiteral, quoteLiteral } from '../engine/sql';
import type { Source } from './source';

export interface SourceFile {
  path: string;
  size: number;
  mtimeMs: number;
}

export function sourcePattern(source: FileSourceSpec, businessDate: string): string {
  return source.path.split('{date}').join(businessDate);
}

/** The files of the batch for a business date, sorted; a DataError when none match. */
export async function listSourceFiles(session: Session, table: FileTableConfig, businessDate: string): Promise<SourceFile[]> {
  const pattern = sourcePattern(table.source, businessDate);
  const rows = await session.rows<{ file: string }>(`SELECT file FROM glob(${quoteLiteral(pattern)}) ORDER BY file`);
  if (rows.length === 0) {
    throw new DataError(`no source file matches ${pattern}`, { dataset: table.dataset, table: table.name, file: pattern, businessDate });
  }
  return Promise.all(
    rows.map(async ({ file }) => {
      const s = await stat(file);
      return { path: file, size: s.size, mtimeMs: s.mtimeMs };
    }),
  );
}

/**
 * A table function call reading the files. CSV is read as text so that cdcflow, not DuckDB's
 * type sniffer, decides how each value is cast.
 */
export function readSourceSql(source: FileSourceSpec, files: readonly string[], options: { withOrigin?: boolean } = {}): string {
  const list = fileListLiteral(files);
  const origin = options.withOrigin ? ', filename = true' : '';
  switch (source.format) {
    case 'csv': {
      const { header, delimiter, quote, nullString } = source.csv;
      return (
        `read_csv(${list}, all_varchar = true, header = ${header}, delim = ${quoteLiteral(delimiter)}, ` +
        `quote = ${quoteLiteral(quote)}, nullstr = ${quoteLiteral(nullString)}, union_by_name = true${origin})`
      );
    }
    case 'parquet':
      // A `name=value` folder must not override the file's own column (extracted chunks live under business_date=D/).
      return `read_parquet(${list}, union_by_name = true, hive_partitioning = false${origin})`;
    case 'json':
      return `read_json(${list}, format = 'auto', union_by_name = true${origin})`;
  }
}

/** Column names and DuckDB types as the source presents them. */
export async function describeSource(session: Session, source: FileSourceSpec, files: readonly string[]): Promise<Map<string, string>> {
  const rows = await session.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${readSourceSql(source, files)}`);
  return new Map(rows.map((r) => [r.column_name, r.column_type]));
}

/** Files are read in place: the batch is the files matching the path. */
export const fileSource: Source<FileSourceSpec> = {
  batch: async (session, table, businessDate) => ({ table, files: await listSourceFiles(session, table, businessDate) }),
};

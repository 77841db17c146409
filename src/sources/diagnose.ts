/**
 * Finding the file and row behind a bad batch. These queries run only after a stage failed or
 * a check found a problem, so the common path pays nothing for row numbers.
 */
import { columnLabel, sourceName } from '../config/columns';
import type { FileTableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { hashExpression } from '../engine/hashing';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import { typedColumnsSql } from '../engine/stage-sql';
import { exactCastChecks } from '../engine/strict-cast';
import { DataError, type ErrorContext } from '../errors';
import { castFailureMessage, valueContext } from '../warehouse/sensitive';
import { csvCastHint } from './csv-hints';
import { lineBreaksInRowSql } from './file-lines';
import { type BatchFile, describeSource, readSourceSql, sourceReading } from './file-source';

interface RowHit {
  row: number;
  value: string | null;
}

/** Row numbers get a name of their own: a source may well have a column called `ordinality`. */
const ROW = '__cdcflow_row';

/** One file's rows with their 1-based row number in the column ROW. */
async function numberedRows(session: Session, table: FileTableConfig, file: BatchFile): Promise<string> {
  const names = [...(await describeSource(session, table, [file])).keys(), ROW].map(quoteIdent);
  return `(SELECT * FROM ${readSourceSql(table.source, [file])} WITH ORDINALITY AS numbered(${names.join(', ')}))`;
}

/** The first row of one file matching a condition on the raw (uncast) columns. */
async function firstRowWhere(session: Session, table: FileTableConfig, file: BatchFile, condition: string, valueSql = 'NULL'): Promise<RowHit | undefined> {
  const [hit] = await session.rows<{ row: string | number; value: string | null }>(
    `SELECT ${ROW} AS row, CAST(${valueSql} AS VARCHAR) AS value FROM ${await numberedRows(session, table, file)} ` +
      `WHERE ${condition} ORDER BY ${ROW} LIMIT 1`,
  );
  return hit && { row: Number(hit.row), value: hit.value };
}

/** The file line data row `row` of a CSV file starts on: below the header, and below every line break inside earlier rows' fields. */
async function csvLineOf(session: Session, table: FileTableConfig, file: BatchFile, row: number): Promise<number> {
  const names = [...(await describeSource(session, table, [file])).keys()];
  const [{ breaks }] = await session.rows<{ breaks: string | number | null }>(
    `SELECT sum(${lineBreaksInRowSql(names)}) AS breaks FROM ${await numberedRows(session, table, file)} WHERE ${ROW} < ${row}`,
  );
  return row + (table.source.csv.header ? 1 : 0) + Number(breaks ?? 0);
}

/** Where data row `row` of a file is: for CSV also its line. */
async function where(session: Session, table: FileTableConfig, file: BatchFile, row: number, extra: ErrorContext = {}): Promise<ErrorContext> {
  const line = table.source.format === 'csv' ? await csvLineOf(session, table, file, row) : undefined;
  return { dataset: table.dataset, table: table.name, file: file.path, row, ...(line ? { line } : {}), ...extra };
}

/**
 * A CSV row that repeats the header (two exports concatenated), or undefined. Only text columns
 * can hold their own names; a header under a typed column fails its cast and is found here too.
 */
export async function findRepeatedHeader(session: Session, table: FileTableConfig, files: readonly BatchFile[]): Promise<DataError | undefined> {
  if (table.source.format !== 'csv' || !table.source.csv.header) return undefined;
  for (const file of files) {
    const names = file.columns ?? [];
    const condition = names.map((n) => `lower(${quoteIdent(n)}) = ${quoteLiteral(n.toLowerCase())}`).join(' AND ');
    const hit = names.length ? await firstRowWhere(session, table, file, condition) : undefined;
    if (hit) {
      const place = await where(session, table, file, hit.row);
      return new DataError(`line ${place.line} repeats the header (two exports concatenated?): ${JSON.stringify(names.join(table.source.csv.delimiter))}`, place);
    }
  }
  return undefined;
}

/** One file's column types by lower-cased name, as the hash stage looks them up. */
async function lowerCasedTypes(session: Session, table: FileTableConfig, file: BatchFile): Promise<Map<string, string>> {
  return new Map([...(await describeSource(session, table, [file]))].map(([n, t]) => [n.toLowerCase(), t]));
}

/** A value that does not convert exactly to its column's type, or undefined when every value does. */
export async function findCastFailure(session: Session, table: FileTableConfig, files: readonly BatchFile[]): Promise<DataError | undefined> {
  for (const file of files) {
    const types = await lowerCasedTypes(session, table, file);
    for (const column of [...table.keys, ...table.columns]) {
      const type = types.get(sourceName(column).toLowerCase());
      const c = quoteIdent(sourceName(column));
      // A column the file lacks (missingColumns: null) reads as NULL, which converts.
      const checks = type ? exactCastChecks(c, type, column.type, { ...column, ...sourceReading(table.source) }) : [];
      for (const { condition, hint } of checks) {
        const hit = await firstRowWhere(session, table, file, `${c} IS NOT NULL AND NOT (${condition})`, c);
        if (hit) {
          return new DataError(
            castFailureMessage(column, hit.value) + (column.sensitive ? '' : hint) + csvCastHint(table, column, hit.value),
            await where(session, table, file, hit.row, { column: column.name, ...valueContext(column, hit.value) }),
          );
        }
      }
    }
  }
  return undefined;
}

/** The first row with a NULL in a key column. */
export async function locateNullKey(session: Session, table: FileTableConfig, files: readonly BatchFile[]): Promise<DataError> {
  for (const file of files) {
    for (const key of table.keys) {
      const hit = await firstRowWhere(session, table, file, `${quoteIdent(sourceName(key))} IS NULL`);
      if (hit) {
        return new DataError(`key column ${columnLabel(key)} is NULL`, await where(session, table, file, hit.row, { column: key.name }));
      }
    }
  }
  return new DataError('a key column is NULL', { dataset: table.dataset, table: table.name });
}

/** The first two rows sharing a key, given that key's hash. */
export async function locateDuplicateKey(session: Session, table: FileTableConfig, files: readonly BatchFile[], keyHash: string, keyText: string): Promise<DataError> {
  const rows: { file: BatchFile; row: number }[] = [];
  for (const file of files) {
    // The keys typed as the hash stage types them (in their format, JSON text as text), so that their hash is the one given.
    const typed = typedColumnsSql({ keys: table.keys, columns: [], ignore: [] }, await lowerCasedTypes(session, table, file), 'n', sourceReading(table.source));
    const found = await session.rows<{ row: string | number }>(
      `SELECT ${ROW} AS row FROM (SELECT n.${ROW}, ${typed} FROM ${await numberedRows(session, table, file)} n) t ` +
        `WHERE ${hashExpression(table.keys, 't')} = CAST(${quoteLiteral(keyHash)} AS UUID) ORDER BY ${ROW} LIMIT 2`,
    );
    rows.push(...found.map((r) => ({ file, row: Number(r.row) })));
    if (rows.length >= 2) break;
  }
  const places = rows.map((r) => `${r.file.path} row ${r.row}`).join(' and ');
  const message = `duplicate key ${keyText} in the batch${places ? ` (${places})` : ''}; keys must be unique within a batch`;
  const column = table.keys.map((k) => k.name).join(',');
  const later = rows[1] ?? rows[0];
  if (!later) return new DataError(message, { dataset: table.dataset, table: table.name, column });
  return new DataError(message, await where(session, table, later.file, later.row, { column }));
}

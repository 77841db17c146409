/**
 * DuckDB's errors about a file it cannot read, turned once into a DataError naming the file and
 * line and quoting the line, so that a malformed batch fails at once instead of being retried.
 */
import type { TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { quoteLiteral } from '../engine/sql';
import { DataError } from '../errors';
import { quotedLine, withheldQuotes } from '../warehouse/sensitive';
import { csvReadHint } from './csv-hints';
import { fileLinesSql } from './file-lines';

/** DuckDB error classes that a retry cannot fix: the data or its shape is wrong. */
export const PERMANENT_DUCKDB_ERROR = /^(Conversion|Invalid Input|Binder|Parser|Catalog|Out of Range) Error/;

/** DuckDB's refusal of bytes 0x80-0x9F, control characters in Latin-1, which a Windows-1252 file uses for € and curly quotes. */
const LATIN1_REFUSED = /File is not latin-1 encoded/;
const LATIN1_HINT = ' (it holds bytes 0x80-0x9F, which Windows-1252 uses for characters such as € and curly quotes; convert the file to UTF-8)';

const CSV_ERROR = /CSV Error on Line: (\d+)\nOriginal Line: ?(.*)\n([^\n]*)/;
const JSON_ERROR = /Malformed JSON in file "[^\n]*", at byte \d+ in (line|record\/value) (\d+): ([^\n]*)/;

/**
 * The first line of newline-delimited JSON that is not a JSON value, read by DuckDB as plain
 * lines (failure path only). DuckDB's own message names the line after it.
 */
async function firstInvalidJsonLine(session: Session, file: string): Promise<{ line: number; text: string } | undefined> {
  const [hit] = await session.rows<{ line: string | number; text: string }>(
    `SELECT line, text FROM ${fileLinesSql(file)} WITH ORDINALITY AS t(text, line) WHERE trim(text) <> '' AND NOT json_valid(text) ORDER BY line LIMIT 1`,
  );
  // An array of values spans lines: no single line is a value there.
  return hit && !hit.text.trimStart().startsWith('[') ? { line: Number(hit.line), text: hit.text } : undefined;
}

/**
 * The file line DuckDB's CSV error means: DuckDB counts records, so after a quoted field spanning
 * lines its number is too small. The first line at or after it holding the quoted text is the
 * one; DuckDB's number when none is (a line that cannot be read as plain text).
 */
async function physicalCsvLine(session: Session, file: string, record: number, text: string): Promise<number> {
  const [hit] = await session
    .rows<{ line: string | number }>(
      `SELECT line FROM ${fileLinesSql(file)} WITH ORDINALITY AS t(text, line) WHERE line >= ${record} AND text = ${quoteLiteral(text)} ORDER BY line LIMIT 1`,
    )
    .catch(() => []);
  return hit ? Number(hit.line) : record;
}

export async function classifyReadError(session: Session, err: unknown, table: TableConfig, file: string): Promise<unknown> {
  const message = (err as Error)?.message ?? '';
  if (!PERMANENT_DUCKDB_ERROR.test(message)) return err;
  const context = { dataset: table.dataset, table: table.name, file };
  const csv = CSV_ERROR.exec(message);
  if (csv) {
    const [, record, original, reason] = csv;
    const line = await physicalCsvLine(session, file, Number(record), original);
    const why = reason.trim().replace(/\.$/, '');
    return new DataError(`line ${line} cannot be read as configured: ${why}: ${quotedLine(table, original)}${csvReadHint(table, original, why)}`, {
      ...context,
      line,
    });
  }
  const json = JSON_ERROR.exec(message);
  if (json) {
    const [, unit, n, reason] = json;
    const why = reason.trim().replace(/\.$/, '');
    const bad = await firstInvalidJsonLine(session, file);
    if (bad) return new DataError(`line ${bad.line} is not valid JSON (${why}): ${quotedLine(table, bad.text)}`, { ...context, line: bad.line });
    return new DataError(`the file is not valid JSON: ${why} (DuckDB: in ${unit} ${n})`, context);
  }
  const reason = withheldQuotes(table, message.split('\n')[0], file.split(', '));
  return new DataError(`cannot read the file as ${table.source.format}: ${reason}${LATIN1_REFUSED.test(message) ? LATIN1_HINT : ''}`, context, { cause: err });
}

/**
 * DuckDB's errors about a file it cannot read, turned once into a DataError naming the file and
 * line and quoting the line, so that a malformed batch fails at once instead of being retried.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TableConfig } from '../config/types';
import { DataError } from '../errors';

/** DuckDB error classes that a retry cannot fix: the data or its shape is wrong. */
export const PERMANENT_DUCKDB_ERROR = /^(Conversion|Invalid Input|Binder|Parser|Catalog|Out of Range) Error/;

const CSV_ERROR = /CSV Error on Line: (\d+)\nOriginal Line: ?(.*)\n([^\n]*)/;
const JSON_ERROR = /Malformed JSON in file "[^\n]*", at byte \d+ in (line|record\/value) (\d+): ([^\n]*)/;

/** Long lines are cut: the quote is there to recognise the line, not to hold it. */
function excerpt(line: string): string {
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** The text of a 1-based line of a file, read up to that line only (failure path). */
async function lineOfFile(file: string, line: number): Promise<string | undefined> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      if (++n === line) return text;
    }
  } finally {
    lines.close();
  }
  return undefined;
}

export async function classifyReadError(err: unknown, table: TableConfig, file: string): Promise<unknown> {
  const message = (err as Error)?.message ?? '';
  if (!PERMANENT_DUCKDB_ERROR.test(message)) return err;
  const context = { dataset: table.dataset, table: table.name, file };
  const csv = CSV_ERROR.exec(message);
  if (csv) {
    const [, line, original, reason] = csv;
    return new DataError(`line ${line} cannot be read as configured: ${reason.trim()}: ${JSON.stringify(excerpt(original))}`, {
      ...context,
      line: Number(line),
    });
  }
  const json = JSON_ERROR.exec(message);
  if (json) {
    const [, unit, n, reason] = json;
    if (unit === 'line') {
      const text = await lineOfFile(file, Number(n));
      const quoted = text === undefined ? '' : `: ${JSON.stringify(excerpt(text))}`;
      return new DataError(`line ${n} is not valid JSON: ${reason.trim().replace(/\.$/, '')}${quoted}`, { ...context, line: Number(n) });
    }
    return new DataError(`record ${n} is not valid JSON: ${reason.trim().replace(/\.$/, '')}`, { ...context, record: Number(n) });
  }
  return new DataError(`cannot read the file as ${table.source.format}: ${message.split('\n')[0]}`, context, { cause: err });
}

/**
 * The column names of a CSV file, from its first line, read with the configured delimiter and
 * quote. DuckDB is then told the columns instead of sniffing them, so nothing is guessed.
 */
import type { CsvEncoding, FileTableConfig } from '../config/types';
import { DataError } from '../errors';
import { decompressing, readLeadingBytes } from './compression';

/** A header longer than this is not a header: the file is not the CSV it is configured as. */
const MAX_HEADER_BYTES = 1 << 20;

/**
 * The first record's fields, honouring quotes (a quoted field may hold the delimiter or a newline)
 * and, inside them, the escape (by default the quote: `""` is one quote).
 */
export function splitFirstRecord(text: string, delimiter: string, quote: string, escape = quote): { fields: string[]; complete: boolean } {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === escape && (text[i + 1] === quote || text[i + 1] === escape)) {
        field += text[i + 1];
        i++;
      } else if (ch === quote) quoted = false;
      else field += ch;
    } else if (ch === quote) quoted = true;
    else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      fields.push(field);
      return { fields, complete: true };
    } else field += ch;
  }
  fields.push(field);
  return { fields, complete: !quoted };
}

/** DuckDB's names for the columns of a file without a header: column0…, zero-padded. */
function positionalNames(count: number): string[] {
  const width = String(count - 1).length;
  return Array.from({ length: count }, (_, i) => `column${String(i).padStart(width, '0')}`);
}

export async function readCsvHeader(table: FileTableConfig, file: string): Promise<string[]> {
  const { delimiter, quote, escape, header } = table.source.csv;
  const { bytes, whole } = await leadingBytes(table, file);
  const text = headerText(table, file, bytes);
  const { fields, complete } = splitFirstRecord(text, delimiter, quote, escape);
  if (!complete && !whole) {
    throw new DataError(`line 1 does not end within ${MAX_HEADER_BYTES} bytes; is the delimiter (${JSON.stringify(delimiter)}) right?`, {
      dataset: table.dataset,
      table: table.name,
      file,
      line: 1,
    });
  }
  const positional = positionalNames(fields.length);
  // An empty name (pandas' unnamed index column) gets its positional one: DuckDB cannot name a column ''.
  return header ? fields.map((name, i) => name || positional[i]) : positional;
}

/** The start of the file's text (decompressed as DuckDB reads it); a DataError when it cannot be decompressed. */
function leadingBytes(table: FileTableConfig, file: string): Promise<{ bytes: Buffer; whole: boolean }> {
  return decompressing(table, file, () => readLeadingBytes(file, MAX_HEADER_BYTES));
}

const UTF16_LE_MARK = Buffer.from([0xff, 0xfe]);
const UTF16_BE_MARK = Buffer.from([0xfe, 0xff]);

/** What a byte-order mark at the start says about a configured encoding, when they disagree. */
function markMismatch(bytes: Buffer, encoding: CsvEncoding): string | undefined {
  // DuckDB reads UTF-16 as little-endian only: a big-endian file would come out as no rows at all.
  if (bytes.subarray(0, 2).equals(UTF16_BE_MARK)) return 'the file starts with a UTF-16 big-endian byte-order mark; only little-endian UTF-16 can be read (csv.encoding: utf-16)';
  if (encoding !== 'utf-16' && bytes.subarray(0, 2).equals(UTF16_LE_MARK)) return `the file starts with a UTF-16 byte-order mark, but csv.encoding is ${encoding}; set csv.encoding: utf-16`;
  return undefined;
}

/** The leading bytes as text in the configured encoding, without a byte-order mark. */
function headerText(table: FileTableConfig, file: string, bytes: Buffer): string {
  const encoding = table.source.csv.encoding ?? 'utf-8';
  const mismatch = markMismatch(bytes, encoding);
  if (mismatch) throw new DataError(mismatch, { dataset: table.dataset, table: table.name, file });
  const text = bytes.toString(encoding === 'utf-16' ? 'utf16le' : encoding === 'latin-1' ? 'latin1' : 'utf8');
  return text.replace(/^\uFEFF/, '');
}

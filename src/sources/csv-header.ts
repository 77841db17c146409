/**
 * The column names of a CSV file, from its first line, read with the configured delimiter and
 * quote. DuckDB is then told the columns instead of sniffing them, so nothing is guessed.
 */
import { open } from 'node:fs/promises';
import type { FileTableConfig } from '../config/types';
import { DataError } from '../errors';

/** A header longer than this is not a header: the file is not the CSV it is configured as. */
const MAX_HEADER_BYTES = 1 << 20;

/** The first record's fields, honouring quotes (a quoted field may hold the delimiter or a newline). */
export function splitFirstRecord(text: string, delimiter: string, quote: string): { fields: string[]; complete: boolean } {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === quote && text[i + 1] === quote) {
        field += quote;
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
  const { delimiter, quote, header } = table.source.csv;
  const handle = await open(file, 'r');
  let text: string;
  let endOfFile: boolean;
  try {
    const buffer = Buffer.alloc(MAX_HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_HEADER_BYTES, 0);
    text = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
    endOfFile = bytesRead < MAX_HEADER_BYTES;
  } finally {
    await handle.close();
  }
  const { fields, complete } = splitFirstRecord(text, delimiter, quote);
  if (!complete && !endOfFile) {
    throw new DataError(`line 1 does not end within ${MAX_HEADER_BYTES} bytes; is the delimiter (${JSON.stringify(delimiter)}) right?`, {
      dataset: table.dataset,
      table: table.name,
      file,
      line: 1,
    });
  }
  return header ? fields : positionalNames(fields.length);
}

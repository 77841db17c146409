/** The keys of a keys-only dump, from `--key k1=v1,k2=v2` options or a CSV file whose header names the key columns. */
import { readFileSync } from 'node:fs';
import type { TableConfig } from '../config/types';
import { ConfigError } from '../errors';
import { splitFirstRecord } from '../sources/csv-header';
import { storeRequestedKeys } from '../warehouse/requested-keys';
import type { KeyScopeRequest } from '../workflows/backfill';

/** `id=5` or `region=eu,id=5`: one key, every key column named once. */
export function parseKeyOption(option: string, table: TableConfig): Record<string, string> {
  const row: Record<string, string> = {};
  for (const part of option.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new ConfigError(
        `--key ${option}: ${JSON.stringify(part)} is not column=value (the pairs are separated by commas; ` +
          'a value holding a comma goes in a --keys-file: a CSV file whose header names the key columns, such a value in double quotes)',
        { dataset: table.dataset, table: table.name },
      );
    }
    row[part.slice(0, eq).trim()] = part.slice(eq + 1);
  }
  return checkedKey(row, table, `--key ${option}`);
}

function checkedKey(row: Record<string, string>, table: TableConfig, where: string): Record<string, string> {
  const keyNames = table.keys.map((k) => k.name);
  const named = Object.keys(row);
  const unknown = named.filter((c) => !keyNames.includes(c));
  const missing = keyNames.filter((k) => !named.includes(k));
  if (unknown.length || missing.length) {
    throw new ConfigError(`${where}: the key of ${table.name} is ${keyNames.join(', ')}${unknown.length ? `; not key columns: ${unknown.join(', ')}` : ''}`);
  }
  return row;
}

/** A keys file: a header naming the key columns, then one key per line (blank lines skipped; double quotes around a value holding a comma). */
export function readKeysFile(file: string, table: TableConfig): Record<string, string>[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const parse = (line: string, n: number) => {
    const { fields, complete } = splitFirstRecord(line, ',', '"');
    if (!complete) throw new ConfigError(`keys file ${file} line ${n}: an unterminated quoted field`);
    return fields;
  };
  const header = parse(lines[0] ?? '', 1).map((h) => h.trim());
  const rows: Record<string, string>[] = [];
  lines.slice(1).forEach((line, i) => {
    if (!line.trim()) return;
    const values = parse(line, i + 2);
    if (values.length !== header.length) throw new ConfigError(`keys file ${file} line ${i + 2}: ${values.length} field(s), the header has ${header.length}`);
    rows.push(checkedKey(Object.fromEntries(header.map((h, j) => [h, values[j]])), table, `keys file ${file} line ${i + 2}`));
  });
  if (!rows.length) throw new ConfigError(`keys file ${file} holds no key`);
  return rows;
}

/**
 * Keys travel in the backfill signal and wait in the dataset's queue (carried over
 * continue-as-new with every other waiting request), within Temporal's payload limit (2 MB by
 * default): beyond this many bytes of JSON they go through a file in the warehouse instead.
 */
export const MAX_SIGNAL_KEYS_BYTES = 256 * 1024;

/** The keys as the signal carries them: the rows themselves, or, when too many, the file they are stored in. */
export async function keysForSignal(table: TableConfig, rows: readonly Record<string, string>[]): Promise<KeyScopeRequest> {
  const bytes = Buffer.byteLength(JSON.stringify(rows));
  if (bytes <= MAX_SIGNAL_KEYS_BYTES) return { table: table.name, rows: [...rows] };
  try {
    return { table: table.name, file: await storeRequestedKeys(table, rows.map((row) => table.keys.map((k) => row[k.name]))) };
  } catch (cause) {
    throw new ConfigError(
      `${rows.length} keys of ${table.name} take ${Math.ceil(bytes / 1024)} KiB as JSON, more than a signal carries (${MAX_SIGNAL_KEYS_BYTES / 1024} KiB), ` +
        `so they go through the warehouse's work folder, which cannot be written from here (${(cause as Error).message}): ` +
        `run cdcflow backfill where the warehouse ${table.warehouse} is at the path the workers use`,
      { dataset: table.dataset, table: table.name },
      { cause },
    );
  }
}

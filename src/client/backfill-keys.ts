/** The keys of a keys-only dump, from `--key k1=v1,k2=v2` options or a CSV file whose header names the key columns. */
import { readFileSync } from 'node:fs';
import type { TableConfig } from '../config/types';
import { ConfigError } from '../errors';
import { splitFirstRecord } from '../sources/csv-header';

/** `id=5` or `region=eu,id=5`: one key, every key column named once. */
export function parseKeyOption(option: string, table: TableConfig): Record<string, string> {
  const row: Record<string, string> = {};
  for (const part of option.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--key ${option}: expected column=value pairs separated by commas`);
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
 * continue-as-new with every other waiting request), all within Temporal's payload limit
 * (2 MB by default): a request's keys, as JSON, are kept well under it.
 */
export const MAX_KEYS_BYTES = 256 * 1024;

/** Refuses, before anything is queued, keys too many for one request, saying how many fit. */
export function refuseOversizedKeys(table: Pick<TableConfig, 'dataset' | 'name'>, rows: readonly Record<string, string>[]): void {
  const bytes = Buffer.byteLength(JSON.stringify(rows));
  if (bytes <= MAX_KEYS_BYTES) return;
  const fit = Math.floor((rows.length * MAX_KEYS_BYTES) / bytes);
  throw new ConfigError(
    `${rows.length} keys of ${table.dataset}.${table.name} take ${Math.ceil(bytes / 1024)} KiB as JSON; one backfill request carries at most ${MAX_KEYS_BYTES / 1024} KiB of keys ` +
      `(about ${fit} of these) through Temporal, whose payloads are limited to 2 MB. Split them into requests of at most ${fit} keys with the same --date ` +
      `(each dump commits on top of the one before), or dump the whole table (--tables ${table.name}, without --key and --keys-file)`,
    { dataset: table.dataset, table: table.name },
  );
}

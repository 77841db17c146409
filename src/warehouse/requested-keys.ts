/**
 * The keys of a keys-only dump too many for a Temporal signal: `cdcflow backfill` writes them to
 * a file in the table's work folder, named by the SHA-256 of its content, and the signal carries
 * that digest and the count (see StoredKeys); the dump's extract reads the file back. A file is
 * never rewritten with other content, so dumps asking for the same keys share it; files older
 * than its cut-off go with `cdcflow vacuum`.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { TableConfig } from '../config/types';
import { StateError } from '../errors';
import type { StoredKeys } from '../workflows/backfill';
import { isSha256 } from '../config/sha256';
import { ifExists, writeAtomically } from './atomic';
import { tableLayout } from './layout';

type Table = Pick<TableConfig, 'warehouse' | 'dataset' | 'name'>;

const sha256Of = (text: string) => createHash('sha256').update(text).digest('hex');

export function requestedKeysFile(table: Table, sha256: string): string {
  if (!isSha256(sha256)) throw new Error(`not a SHA-256 in hex: ${JSON.stringify(sha256)}`);
  return path.join(tableLayout(table.warehouse, table.dataset, table.name).tableWork, 'requested-keys', `${sha256}.json`);
}

/** Writes the keys (each key's values in key column order) to their file; returns what the signal carries. */
export async function storeRequestedKeys(table: Table, values: readonly (readonly string[])[]): Promise<StoredKeys> {
  const text = JSON.stringify(values);
  const sha256 = sha256Of(text);
  await writeAtomically(requestedKeysFile(table, sha256), (tmp) => writeFile(tmp, text));
  return { sha256, count: values.length };
}

/** The stored keys, refused when the file is gone or is not what the request stored. */
export async function readRequestedKeys(table: Table & Pick<TableConfig, 'keys'>, stored: StoredKeys): Promise<string[][]> {
  const file = requestedKeysFile(table, stored.sha256);
  const context = { dataset: table.dataset, table: table.name, file };
  const text = await ifExists(() => readFile(file, 'utf8'));
  if (text === undefined) throw new StateError(`the file of the ${stored.count} requested keys is missing (removed by cdcflow vacuum, or by hand?): request the dump again`, context);
  const values: unknown = sha256Of(text) === stored.sha256 ? JSON.parse(text) : undefined;
  const width = table.keys.length;
  const valid = Array.isArray(values) && values.length === stored.count && values.every((v) => Array.isArray(v) && v.length === width && v.every((x) => typeof x === 'string'));
  if (!valid) throw new StateError(`the file of the requested keys does not hold what the request stored (${stored.count} keys of ${width} column(s), SHA-256 ${stored.sha256}): request the dump again`, context);
  return values as string[][];
}

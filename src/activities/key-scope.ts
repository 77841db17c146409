/**
 * A keys-only dump's batch: the source rows of the requested keys (the extract read them) plus
 * the latest committed state without those keys. Run as a full snapshot, it upserts the keys
 * found at the source, deletes (D) those that are not, and leaves every other key unchanged.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { missingKeysSql, requestedKeysSql, stateWithoutKeysSql, uncastKeySql } from '../engine/key-scope-sql';
import { DataError } from '../errors';
import { chunkFile } from '../sources/postgres-source';
import { writeAtomically } from '../warehouse/atomic';
import { tableLayout } from '../warehouse/layout';

/** Writes the state chunk beside the extracted ones; returns the requested keys found nowhere. */
export async function completeKeyScope(session: Session, table: TableConfig, extracted: { folder: string; chunks: number }, values: string[][]): Promise<string[]> {
  const [bad] = await session.rows<{ key_name: string; column_name: string }>(uncastKeySql(table, values));
  if (bad) {
    throw new DataError(`requested key ${bad.key_name}: the value of "${bad.column_name}" is not a ${table.keys.find((k) => k.name === bad.column_name)?.type}`, {
      dataset: table.dataset,
      table: table.name,
      key: bad.key_name,
      column: bad.column_name,
    });
  }
  // The plan stage published the latest commit (rolling forward a crashed publish), and the
  // dataset's turn keeps other runs from committing meanwhile: this is the latest state.
  const current = tableLayout(table.warehouse, table.dataset, table.name).current;
  const state = existsSync(current) ? current : null;
  const requested = requestedKeysSql(table, values);
  if (state) await writeAtomically(path.join(extracted.folder, 'chunk-state.parquet'), (tmp) => session.run(stateWithoutKeysSql(table, state, requested, tmp)));
  const chunks = Array.from({ length: extracted.chunks }, (_, i) => chunkFile(extracted.folder, i + 1));
  const missing = await session.rows<{ key_name: string }>(missingKeysSql(table, requested, chunks, state));
  return missing.map((m) => m.key_name);
}

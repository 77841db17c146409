/**
 * A keys-only dump's batch: the source rows of the requested keys (the extract read them) plus
 * the latest committed state without those keys. Run as a full snapshot, it upserts the keys
 * found at the source, deletes (D) those that are not, and leaves every other key unchanged.
 */
import { existsSync } from 'node:fs';
import type { TableConfig } from '../config/types';
import { copyRows, type Engine, type Session } from '../engine/duckdb';
import { missingColumns, readOwnParquet, withNullColumnsSql } from '../engine/stage-sql';
import { lakeTables, withCatalog } from '../warehouse/catalog';
import { stateFiles } from './plan-table-run';
import { missingKeysSql, requestedKeysSql, stateWithoutKeysSql, uncastKeySql } from '../engine/key-scope-sql';
import { DataError } from '../errors';
import { chunkFile, recordStateChunk } from '../sources/postgres-source';
import { tableLayout } from '../warehouse/layout';
import { MISSING_KEYS_SHOWN, type MissingKeys } from '../workflows/backfill';

/**
 * Refuses a requested key whose value does not convert exactly to its key column's type, before
 * anything is read: the source would refuse it on every attempt. The CLI checks the same.
 */
export async function checkRequestedKeys(session: Session, table: Pick<TableConfig, 'dataset' | 'name' | 'keys'>, values: string[][]): Promise<void> {
  const sql = uncastKeySql(table, values);
  const [bad] = sql ? await session.rows<{ key_name: string; column_name: string; value: string }>(sql) : [];
  if (bad) {
    const type = table.keys.find((k) => k.name === bad.column_name)?.type;
    throw new DataError(`requested key ${bad.key_name}: value ${JSON.stringify(bad.value)} of key column "${bad.column_name}" does not convert exactly to ${type}`, {
      dataset: table.dataset,
      table: table.name,
      key: bad.key_name,
      column: bad.column_name,
      value: bad.value,
    });
  }
}

/**
 * Writes the state chunk beside the extracted ones and records it in the extract's manifest;
 * returns the requested keys found nowhere (the first of them, and how many when more).
 */
export async function completeKeyScope(
  engine: Engine,
  session: Session,
  table: TableConfig,
  businessDate: string,
  extracted: { folder: string; chunks: number },
  values: string[][],
): Promise<MissingKeys> {
  // The plan stage published the latest commit (rolling forward a crashed publish), and the
  // dataset's turn keeps other runs from committing meanwhile: this is the latest state.
  const current = tableLayout(table.warehouse, table.dataset, table.name).current;
  const state = existsSync(current) ? current : null;
  const requested = requestedKeysSql(table, values);
  await recordStateChunk(table, businessDate, state ? (tmp) => copyStateWithoutKeys(engine, session, table, requested, tmp) : null);
  const chunks = Array.from({ length: extracted.chunks }, (_, i) => chunkFile(extracted.folder, i + 1));
  const missing = await session.rows<{ key_name: string; missing: bigint }>(missingKeysSql(table, requested, chunks, state, MISSING_KEYS_SHOWN));
  const count = Number(missing[0]?.missing ?? 0);
  return { missingKeys: missing.map((m) => m.key_name), ...(count > missing.length ? { missingKeyCount: count } : {}) };
}

/**
 * Copies the committed rows of every key not requested, with all configured columns (the
 * published current.parquet lacks the sensitive ones), from the state's files in the catalog's
 * data folder: only their listing takes the worker's one catalog connection, not the copy (an
 * empty state, which has no file, is read through the catalog). Columns the config appended
 * since the commit come as NULL, as the diff reads its base.
 */
async function copyStateWithoutKeys(engine: Engine, session: Session, table: TableConfig, requested: string, outPath: string): Promise<number> {
  const copy = async (s: Session, state: string) => {
    const appended = await missingColumns(s, table, state);
    return copyRows(s, stateWithoutKeysSql(table, appended.length ? withNullColumnsSql(state, appended) : state, requested, outPath));
  };
  const files = await withCatalog(engine, table.warehouse, (s, alias) => stateFiles(s, alias, table));
  if (files.length > 0) return copy(session, readOwnParquet(files));
  return withCatalog(engine, table.warehouse, (s, alias) => copy(s, lakeTables(alias, table.dataset, table.name).current));
}

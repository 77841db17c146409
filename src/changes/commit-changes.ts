/**
 * What a change-record table adds to its commit: the new ordering state (per key the ordering
 * value its row reflects, tombstones for deleted keys) and the date's event counts, as two more
 * DuckLake tables written in the same transaction as the current state and history:
 *
 *   <table>__order           KEY_HASH, the ordering values, DELETED_ON (set for a tombstone)
 *   <table>__change_counts   one row per committed date: events by kind, duplicates, stale
 */
import type { StageManifest } from '../activities/stage-output';
import type { DiffInput, HashResult } from '../activities/types';
import type { Session } from '../engine/duckdb';
import { dateLiteral, quoteIdent, quoteLiteral } from '../engine/sql';
import { readJsonIfExists } from '../warehouse/atomic';
import type { LakeTables } from '../warehouse/catalog';
import { addDataFileSql, emptyStateSql } from '../warehouse/commit';
import { tableLayout } from '../warehouse/layout';
import type { ChangeCounts } from './counts';
import { type ChangeTable, orderStateColumnsDdl } from './event-sql';
import { asChangeTable } from './hash-events';

export interface ChangeLakeTables {
  order: string;
  counts: string;
}

export function changeLakeTables(lake: LakeTables, table: string): ChangeLakeTables {
  return { order: `${lake.schema}.${quoteIdent(`${table}__order`)}`, counts: `${lake.schema}.${quoteIdent(`${table}__change_counts`)}` };
}

const COUNT_COLUMNS = ['events', 'inserts', 'updates', 'deletes', 'duplicates', 'stale'] as const;

/**
 * The statements a change-record table's commit adds to the transaction; `orderFile` is the next
 * ordering state as the diff wrote it, placed in the catalog's data folder like the state files.
 * `drop`: the ordering state is emptied by DROP + CREATE, as the current state (replacesByDrop).
 */
export function changeCommitSql(
  t: ChangeTable & { name: string },
  lake: LakeTables,
  orderFile: string,
  businessDate: string,
  counts: ChangeCounts,
  drop = false,
): string[] {
  const date = dateLiteral(businessDate);
  const tables = changeLakeTables(lake, t.name);
  return [
    `CREATE TABLE IF NOT EXISTS ${tables.order} (${orderStateColumnsDdl(t)})`,
    `CREATE TABLE IF NOT EXISTS ${tables.counts} (business_date DATE, ${COUNT_COLUMNS.map((c) => `${c} BIGINT`).join(', ')})`,
    ...emptyStateSql(tables.order, orderStateColumnsDdl(t), drop),
    addDataFileSql(lake, `${t.name}__order`, orderFile),
    `DELETE FROM ${tables.counts} WHERE business_date = ${date}`,
    `INSERT INTO ${tables.counts} VALUES (${date}, ${COUNT_COLUMNS.map((c) => String(Math.trunc(counts[c]))).join(', ')})`,
  ];
}

/**
 * What a change-record table's commit adds to the transaction: the ordering state its diff wrote
 * (placed at `orderFile`), and the date's counts (events from the hash stage, stale events from
 * the diff); `drop`: see changeCommitSql.
 */
export async function prepareChangeCommit(
  lake: LakeTables,
  input: DiffInput,
  stale: number,
  orderFile: string,
  drop: boolean,
): Promise<{ statements: string[]; counts: ChangeCounts }> {
  const { businessDate } = input;
  const table = asChangeTable(input.table);
  const layout = tableLayout(table.warehouse, table.dataset, table.name);
  const hashManifest = await readJsonIfExists<StageManifest<HashResult>>(layout.stageManifest(businessDate, 'hashed'));
  const events = hashManifest?.result.events;
  if (!events) throw new Error(`the hash stage's event counts of ${table.dataset}.${table.name} ${businessDate} are missing`);
  const counts = { ...events, stale };
  return { statements: changeCommitSql(table, lake, orderFile, businessDate, counts, drop), counts };
}

/** The counts committed with a date (a write retried after its commit reports them again). */
export async function committedChangeCounts(session: Session, lake: LakeTables, table: string, businessDate: string): Promise<ChangeCounts | undefined> {
  const [row] = await session.rows<Record<(typeof COUNT_COLUMNS)[number], string | number>>(
    `SELECT ${COUNT_COLUMNS.join(', ')} FROM ${changeLakeTables(lake, table).counts} WHERE business_date = DATE ${quoteLiteral(businessDate)}`,
  );
  return row && (Object.fromEntries(COUNT_COLUMNS.map((c) => [c, Number(row[c])])) as unknown as ChangeCounts);
}

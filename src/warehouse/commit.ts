/**
 * Committing a date: one DuckLake transaction registers the new current state and the date's
 * history (files the run wrote beforehand) and writes its commit-log row and the head row. The head row is read inside the transaction and
 * must still name the commit the run was planned on; a concurrent commit on the same table
 * makes DuckLake refuse one of the two at COMMIT. Either way a run never commits on a stale base.
 */
import type { TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import { StaleBaseError } from '../errors';
import type { LakeTables } from './catalog';
import type { StepHook } from './publish';
import { COMMIT_LOG_COLUMNS, type CommitRecord, type CommitTag, commitLogRowSql } from './commits';

type TableShape = Pick<TableConfig, 'keys' | 'columns'>;

/** The columns of the current and history tables, as in the published exports. */
export function stateColumnsDdl(t: TableShape): string {
  const data = [...t.keys, ...t.columns].map((c) => `${quoteIdent(c.name)} ${c.type.toUpperCase()}`);
  return [...data, 'OPERATION VARCHAR', 'EFF_START_DATE DATE', 'KEY_HASH UUID', 'NONKEY_HASH UUID'].join(', ');
}

export function createTablesSql(t: TableShape, lake: LakeTables): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${lake.current} (${stateColumnsDdl(t)})`,
    `CREATE TABLE IF NOT EXISTS ${lake.history} (${stateColumnsDdl(t)})`,
    `CREATE TABLE IF NOT EXISTS ${lake.commits} (${COMMIT_LOG_COLUMNS})`,
    // Commit logs from before watermarks were kept gain the column.
    `ALTER TABLE ${lake.commits} ADD COLUMN IF NOT EXISTS watermark VARCHAR`,
    `CREATE TABLE IF NOT EXISTS ${lake.head} (commit_id VARCHAR, business_date DATE)`,
  ];
}

/** The files a commit registers: written beforehand by the run, outside the catalog's connection. */
export interface CommitFiles {
  /** The whole new state (stateFileSql): one file, or one per key-hash bucket in bucket order. */
  current: readonly string[];
  /** The date's net changes (historyFileSql), likewise. */
  history: readonly string[];
}

/** Registers a file the commit wrote as data of a catalog table (given by its unquoted name). */
export function addDataFileSql(lake: LakeTables, table: string, file: string): string {
  const { catalog, schema } = lake.names;
  return `CALL ducklake_add_data_files(${quoteLiteral(catalog)}, ${quoteLiteral(table)}, ${quoteLiteral(file)}, schema => ${quoteLiteral(schema)})`;
}

/** The data statements of a commit: its files replace the state and the date's history. */
export function commitDataSql(lake: LakeTables, files: CommitFiles, commit: CommitRecord, tag: CommitTag): string[] {
  const date = `DATE ${quoteLiteral(commit.businessDate)}`;
  return [
    `DELETE FROM ${lake.current}`,
    ...files.current.map((f) => addDataFileSql(lake, lake.names.current, f)),
    `DELETE FROM ${lake.history} WHERE EFF_START_DATE = ${date}`,
    ...files.history.map((f) => addDataFileSql(lake, lake.names.history, f)),
    `DELETE FROM ${lake.commits} WHERE business_date = ${date}`,
    `INSERT INTO ${lake.commits} VALUES ${commitLogRowSql(commit)}`,
    `DELETE FROM ${lake.head}`,
    `INSERT INTO ${lake.head} VALUES (${quoteLiteral(commit.commitId)}, ${date})`,
    `CALL ${lake.alias}.set_commit_message('cdcflow', ${quoteLiteral(`${tag.dataset}.${tag.table} ${tag.date}`)}, extra_info => ${quoteLiteral(JSON.stringify(tag))})`,
  ];
}

/**
 * Runs the commit. `expectedHead` is the latest commit when the run was planned (null: none);
 * a different head means another run committed meanwhile: StaleBaseError, nothing written.
 */
export async function commitDate(
  session: Session,
  opts: {
    table: TableShape & { dataset: string; name: string };
    lake: LakeTables;
    files: CommitFiles;
    commit: CommitRecord;
    tag: CommitTag;
    expectedHead: string | null;
    step?: StepHook;
    /** More statements of the same transaction (a change-record table's ordering state). */
    extraStatements?: readonly string[];
  },
): Promise<void> {
  const { lake, commit } = opts;
  await session.run('BEGIN TRANSACTION');
  try {
    // A head to build on means a commit made the tables already: DDL costs the catalog time.
    if (opts.expectedHead === null) for (const sql of createTablesSql(opts.table, lake)) await session.run(sql);
    const [head] = await session.rows<{ commit_id: string | null }>(`SELECT commit_id FROM ${lake.head}`);
    const headNow = head?.commit_id ?? null;
    if (headNow !== opts.expectedHead) {
      throw new StaleBaseError(`another run committed ${opts.table.name} while this one ran (planned on ${opts.expectedHead ?? 'no commit'}, now ${headNow})`, {
        dataset: opts.table.dataset,
        table: opts.table.name,
        businessDate: commit.businessDate,
      });
    }
    for (const sql of commitDataSql(lake, opts.files, commit, opts.tag)) await session.run(sql);
    for (const sql of opts.extraStatements ?? []) await session.run(sql);
    await opts.step?.('commit:before-commit');
    await session.run('COMMIT');
  } catch (err) {
    await session.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

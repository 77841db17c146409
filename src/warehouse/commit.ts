/**
 * Committing a date: one DuckLake transaction writes the new current state, the date's history
 * rows, its commit-log row and the head row. The head row is read inside the transaction and
 * must still name the commit the run was planned on; a concurrent commit on the same table
 * makes DuckLake refuse one of the two at COMMIT. Either way a run never commits on a stale base.
 */
import type { TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import { readOwnParquet } from '../engine/stage-sql';
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

/** The data statements of a commit, given the stage files of the run (I, U, N, X and D rows). */
export function commitDataSql(lake: LakeTables, stageFiles: readonly string[], commit: CommitRecord, tag: CommitTag): string[] {
  const stages = readOwnParquet(stageFiles);
  const date = `DATE ${quoteLiteral(commit.businessDate)}`;
  return [
    `DELETE FROM ${lake.current}`,
    `INSERT INTO ${lake.current} BY NAME SELECT * FROM ${stages} WHERE OPERATION <> 'D'`,
    `DELETE FROM ${lake.history} WHERE EFF_START_DATE = ${date}`,
    `INSERT INTO ${lake.history} BY NAME SELECT * FROM ${stages} WHERE OPERATION IN ('I', 'U', 'D')`,
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
  opts: { table: TableShape & { dataset: string; name: string }; lake: LakeTables; stageFiles: readonly string[]; commit: CommitRecord; tag: CommitTag; expectedHead: string | null; step?: StepHook },
): Promise<void> {
  const { lake, commit } = opts;
  await session.run('BEGIN TRANSACTION');
  try {
    for (const sql of createTablesSql(opts.table, lake)) await session.run(sql);
    const [head] = await session.rows<{ commit_id: string | null }>(`SELECT commit_id FROM ${lake.head}`);
    const headNow = head?.commit_id ?? null;
    if (headNow !== opts.expectedHead) {
      throw new StaleBaseError(`another run committed ${opts.table.name} while this one ran (planned on ${opts.expectedHead ?? 'no commit'}, now ${headNow})`, {
        dataset: opts.table.dataset,
        table: opts.table.name,
        businessDate: commit.businessDate,
      });
    }
    for (const sql of commitDataSql(lake, opts.stageFiles, commit, opts.tag)) await session.run(sql);
    await opts.step?.('commit:before-commit');
    await session.run('COMMIT');
  } catch (err) {
    await session.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

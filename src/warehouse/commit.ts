/**
 * Committing a date: one DuckLake transaction registers the new current state and the date's
 * history (files the run wrote beforehand) and writes its commit-log row and the head row. The head row is read inside the transaction and
 * must still name the commit the run was planned on; a concurrent commit on the same table
 * makes DuckLake refuse one of the two at COMMIT. Either way a run never commits on a stale base.
 */
import type { ColumnSpec, TableConfig } from '../config/types';
import type { Engine, Session } from '../engine/duckdb';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import { duckdbTypeName } from '../engine/strict-cast';
import { StaleBaseError } from '../errors';
import { type LakeTables, withCatalog } from './catalog';
import { queuedForCatalog } from './catalog-waits';
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

/**
 * From this many rows on, a state is emptied by dropping its table and creating it again (same
 * columns) rather than by DELETE: DuckLake's DELETE of a whole table scans every row id (about
 * 0.3 s per million rows) before it drops the files, where DROP + CREATE costs a few
 * milliseconds. A dropped table is a change of the catalog's schema, though, which every
 * catalog session then reloads once (about 1 ms per table of the catalog), so small states keep
 * the DELETE.
 */
export const DROP_STATE_ROWS = 250_000;

/**
 * Whether a commit empties its state tables by DROP + CREATE (see DROP_STATE_ROWS): the state
 * it replaces, or the one it writes (a stand-in for the latest state when the latest date runs
 * again), is large. A first commit (no head) creates the tables in its transaction, empty.
 */
export function replacesByDrop(commit: CommitRecord, expectedHead: string | null): boolean {
  const { U, N, D, X } = commit.counts;
  return expectedHead !== null && Math.max(commit.currentRows, U + N + D + X) >= DROP_STATE_ROWS;
}

/** Empties a state table (quoted name) that a commit replaces whole: DELETE, or DROP + CREATE with `columnsDdl`. */
export function emptyStateSql(table: string, columnsDdl: string, drop: boolean): string[] {
  return drop ? [`DROP TABLE ${table}`, `CREATE TABLE ${table} (${columnsDdl})`] : [`DELETE FROM ${table}`];
}

/**
 * The data statements of a commit: its files replace the state and the date's history. A date
 * known to be newer than the head (`newDate`) has no rows to replace: those deletes, which scan
 * the history and the log, are left out. `drop`: see replacesByDrop. `added`: columns the config
 * appended since the latest commit, added to both tables first (a dropped state is created with them).
 */
export function commitDataSql(
  lake: LakeTables,
  t: TableShape,
  files: CommitFiles,
  commit: CommitRecord,
  newDate = false,
  drop = false,
  added: readonly ColumnSpec[] = [],
): string[] {
  const date = `DATE ${quoteLiteral(commit.businessDate)}`;
  const replace = (sql: string) => (newDate ? [] : [sql]);
  const addTo = (table: string) => added.map((c) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${quoteIdent(c.name)} ${duckdbTypeName(c.type)}`);
  return [
    ...(drop ? [] : addTo(lake.current)),
    ...addTo(lake.history),
    ...emptyStateSql(lake.current, stateColumnsDdl(t), drop),
    ...files.current.map((f) => addDataFileSql(lake, lake.names.current, f)),
    ...replace(`DELETE FROM ${lake.history} WHERE EFF_START_DATE = ${date}`),
    ...files.history.map((f) => addDataFileSql(lake, lake.names.history, f)),
    ...replace(`DELETE FROM ${lake.commits} WHERE business_date = ${date}`),
    `INSERT INTO ${lake.commits} VALUES ${commitLogRowSql(commit)}`,
    `DELETE FROM ${lake.head}`,
    `INSERT INTO ${lake.head} VALUES (${quoteLiteral(commit.commitId)}, ${date})`,
  ];
}

/**
 * The snapshot's message and tags (see CommitTag): one table's tag, or for a transaction that
 * commits several tables, `{"cdcflow":1,"commits":[…]}`.
 */
export function commitMessageSql(alias: string, tags: readonly CommitTag[]): string {
  const message = tags.map((t) => `${t.dataset}.${t.table} ${t.date}`).join(', ');
  const info = tags.length === 1 ? tags[0] : { cdcflow: 1, commits: tags };
  return `CALL ${alias}.set_commit_message('cdcflow', ${quoteLiteral(message)}, extra_info => ${quoteLiteral(JSON.stringify(info))})`;
}

export interface CommitRequest {
  table: TableShape & { dataset: string; name: string };
  lake: LakeTables;
  files: CommitFiles;
  commit: CommitRecord;
  tag: CommitTag;
  /** The latest commit when the run was planned (null: none). */
  expectedHead: string | null;
  /** The business date of `expectedHead` (null: none), when known: a newer date has nothing to replace. */
  expectedHeadDate?: string | null;
  step?: StepHook;
  /** More statements of the same transaction (a change-record table's ordering state). */
  extraStatements?: readonly string[];
  /** Columns the config appended since the latest commit (see commitDataSql). */
  addedColumns?: readonly ColumnSpec[];
  /** Aborted when the run was told to stop (its dump cancelled, say): it then commits nothing. */
  stopped?: AbortSignal;
}

interface Waiting extends CommitRequest {
  settle(err?: unknown): void;
}

/** Per engine and warehouse, the commits waiting for the catalog connection. */
const waiting = new WeakMap<Engine, Map<string, Waiting[]>>();

/**
 * Commits a date. A different head than `expectedHead` means another run committed meanwhile:
 * StaleBaseError, nothing written. Commits of other tables that wait for the process's catalog
 * connection at the same time go into the same DuckLake transaction: each table's head is
 * checked in it and each gets its own rows, and one COMMIT (the catalog's costliest statement)
 * serves them all. Should that transaction fail, each commits again on its own, so that every
 * run gets its own outcome.
 */
export function commitDate(engine: Engine, warehouse: string, request: CommitRequest): Promise<void> {
  let joined = false;
  const committed = new Promise<void>((resolve, reject) => {
    const entry: Waiting = { ...request, settle: (err) => (err === undefined ? resolve() : reject(err)) };
    const byWarehouse = waiting.get(engine) ?? new Map<string, Waiting[]>();
    waiting.set(engine, byWarehouse);
    const open = byWarehouse.get(warehouse);
    if (open) {
      open.push(entry);
      joined = true;
      return;
    }
    const batch = [entry];
    byWarehouse.set(warehouse, batch);
    void commitBatch(engine, warehouse, batch, () => byWarehouse.get(warehouse) === batch && byWarehouse.delete(warehouse));
  });
  // Joined to another's transaction, it waits on what that one waits on.
  return joined ? queuedForCatalog(engine, () => committed) : committed;
}

async function commitBatch(engine: Engine, warehouse: string, batch: readonly Waiting[], close: () => void): Promise<void> {
  let together: Waiting[] = [];
  let alone: Waiting[] = [];
  let grouped = true;
  try {
    await withCatalog(engine, warehouse, async (session) => {
      close();
      // Two runs of one table never share a transaction: the second would not see the first's head.
      together = [];
      alone = [];
      for (const w of batch) (together.some((t) => t.lake.head === w.lake.head) ? alone : together).push(w);
      await commitTogether(session, together);
    });
  } catch (err) {
    close();
    grouped = together.length <= 1;
    if (grouped) for (const w of together.length ? together : batch) w.settle(err);
  }
  for (const w of grouped ? alone : [...together, ...alone]) {
    await withCatalog(engine, warehouse, (session) => commitTogether(session, [w])).catch((err: unknown) => w.settle(err));
  }
}

/** One transaction for the commits of `requests`; settles each that it commits or finds stale. */
async function commitTogether(session: Session, requests: readonly Waiting[]): Promise<void> {
  const staged: Waiting[] = [];
  await session.run('BEGIN TRANSACTION');
  try {
    for (const r of requests) {
      // Stopped while it waited for the catalog: a commit now would land after the run was reported stopped.
      if (r.stopped?.aborted) {
        r.settle(r.stopped.reason);
        continue;
      }
      // A head to build on means a commit made the tables already: DDL costs the catalog time.
      if (r.expectedHead === null) for (const sql of createTablesSql(r.table, r.lake)) await session.run(sql);
      const [head] = await session.rows<{ commit_id: string | null }>(`SELECT commit_id FROM ${r.lake.head}`);
      const headNow = head?.commit_id ?? null;
      if (headNow === r.expectedHead) staged.push(r);
      else {
        r.settle(
          new StaleBaseError(`another run committed ${r.table.name} while this one ran (planned on ${r.expectedHead ?? 'no commit'}, now ${headNow})`, {
            dataset: r.table.dataset,
            table: r.table.name,
            businessDate: r.commit.businessDate,
          }),
        );
      }
    }
    for (const r of staged) {
      // The head is as planned, so no commit of a date after the head's exists.
      const newDate = r.expectedHeadDate !== undefined && (r.expectedHeadDate === null || r.expectedHeadDate < r.commit.businessDate);
      const drop = replacesByDrop(r.commit, r.expectedHead);
      for (const sql of commitDataSql(r.lake, r.table, r.files, r.commit, newDate, drop, r.addedColumns)) await session.run(sql);
      for (const sql of r.extraStatements ?? []) await session.run(sql);
    }
    if (staged.length === 0) {
      await session.run('ROLLBACK');
      return;
    }
    await session.run(commitMessageSql(staged[0].lake.alias, staged.map((r) => r.tag)));
    for (const r of staged) await r.step?.('commit:before-commit');
    await session.run('COMMIT');
  } catch (err) {
    await session.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
  for (const r of staged) r.settle();
}

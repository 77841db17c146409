/**
 * Stage 1 of a change-record table: read the batch's events, cast, hash and check them, and write
 * every one of them as the stage's output (`hashed.parquet`); the diff compacts them to the newest
 * event per key and counts the stale ones. Files and lines are read again only to name an event
 * that fails a check (Debezium events keep theirs: the position breaks ties).
 */
import type { FileTableConfig } from '../config/types';
import { copyRows, type Session } from '../engine/duckdb';
import { quoteIdent } from '../engine/sql';
import { readOwnParquet } from '../engine/stage-sql';
import { checkColumns } from '../sources/check-columns';
import { exactCastChecks } from '../engine/strict-cast';
import { DataError } from '../errors';
import { castFailureMessage, valueContext } from '../warehouse/sensitive';
import { type BatchToHash, hashOnce, type HashWork } from '../activities/hash-stage';
import { type ActivityDeps, runStage } from '../activities/stage-runner';
import type { HashResult, StageInput } from '../activities/types';
import { batchFiles, describeSource, readSourceSql, sourceReading } from '../sources/file-source';
import { classifyReadError, PERMANENT_DUCKDB_ERROR } from '../sources/read-errors';
import type { LocalFile } from '../sources/source-copies';
import type { EventCounts } from './counts';
import { checkEvents, eventPlace } from './event-checks';
import {
  type ChangeTable,
  debeziumEventsSql,
  EVENT,
  type EventFile,
  eventsSelectSql,
  eventsSql,
  orderColumn,
  tabularEventsSql,
} from './event-sql';

export type ChangeFileTable = FileTableConfig & ChangeTable;

export function asChangeTable<T extends { changes?: ChangeTable['changes']; name: string }>(table: T): T & ChangeTable {
  if (!table.changes) throw new Error(`table ${table.name} is not a change-record table`);
  return table as T & ChangeTable;
}

export function hashChangeEvents(deps: ActivityDeps) {
  return ({ table: configured, businessDate }: StageInput): Promise<HashResult> =>
    runStage(deps, 'hash', (session) => hashOnce(session, configured, businessDate, 'events', (batch) => hashEvents(session, batch)));
}

/** Reads the batch's events, casts, hashes and checks them, and writes every one as the stage's output. */
async function hashEvents(session: Session, { table: read, copies }: BatchToHash): Promise<HashWork> {
  const table = asChangeTable(read);
  const files = await eventFiles(session, table, copies);
  let events: EventCounts | undefined;
  let rows = 0;
  return {
    write: async (tmp) => {
      let types: Map<string, string>;
      ({ types, rows } = await writeEvents(session, table, files, tmp));
      const located = isDebezium(table) ? readOwnParquet(tmp) : `(${eventsSelectSql(table, false, rawEventsSql(table, files, true), types, true, sourceReading(table.source))})`;
      events = await checkEvents(session, table, readOwnParquet(tmp), located, files);
    },
    result: () => ({ rows, files: files.length, events }),
  };
}

const isDebezium = (table: ChangeFileTable) => table.source.format === 'debezium';

/**
 * The batch's files with their columns. Tabular files must hold every configured column, the
 * operation column and the ordering columns; Debezium lines are JSON, checked event by event.
 */
async function eventFiles(session: Session, table: ChangeFileTable, copies: readonly LocalFile[]): Promise<EventFile[]> {
  const files = await batchFiles(table, copies.map((f) => f.path));
  const name = (index: number) => copies[index].name;
  if (isDebezium(table)) return files.map((f, index) => ({ path: f.path, name: name(index), index, columns: [] }));
  const required = [...table.keys, ...table.columns, { name: table.changes.operation.column }, ...table.changes.orderBy];
  await checkColumns(session, table, files, required);
  return Promise.all(
    files.map(async (f, index) => ({ path: f.path, name: name(index), index, columns: f.columns ?? [...(await describeSource(session, table, [f])).keys()] })),
  );
}

/** Every file's raw events, combined by column name; with file, line and position when `places` (always for Debezium). */
function rawEventsSql(table: ChangeFileTable, files: readonly EventFile[], places: boolean): string {
  // CSV data row N is line N + 1 below a header (and below line breaks in quoted fields); JSON and Parquet events are numbered from 1.
  const csv = table.source.format === 'csv';
  const lines = { offset: csv && table.source.csv.header ? 1 : 0, breaks: csv };
  const one = (f: EventFile) =>
    isDebezium(table)
      ? debeziumEventsSql(table, f)
      : tabularEventsSql(table, readSourceSql(table.source, [{ path: f.path, columns: f.columns }]), f, places ? lines : null);
  return `(${files.map(one).join(' UNION ALL BY NAME ')})`;
}

/** Writes the events file; returns its rows and the raw relation's DuckDB type per lower-cased column name. */
async function writeEvents(session: Session, table: ChangeFileTable, files: readonly EventFile[], out: string): Promise<{ types: Map<string, string>; rows: number }> {
  const raw = rawEventsSql(table, files, false);
  try {
    const described = await session.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${raw}`);
    const types = new Map(described.map((r) => [r.column_name.toLowerCase(), r.column_type]));
    const rows = await copyRows(session, eventsSql(table, isDebezium(table), raw, types, isDebezium(table), sourceReading(table.source), out));
    return { types, rows };
  } catch (err) {
    if (!PERMANENT_DUCKDB_ERROR.test((err as Error).message)) throw err;
    throw await diagnoseUnreadable(session, table, files, err);
  }
}

/** Why the events could not be read or cast: the first file, line and value at fault. */
async function diagnoseUnreadable(session: Session, table: ChangeFileTable, files: readonly EventFile[], err: unknown): Promise<unknown> {
  const raw = rawEventsSql(table, files, true);
  for (const f of files) {
    try {
      await session.rows(`SELECT max(hash(COLUMNS(*))) FROM ${rawEventsSql(table, [f], false)}`);
    } catch (readErr) {
      return classifyReadError(session, readErr, table, f.path);
    }
  }
  const described = await session.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${raw}`);
  const types = new Map(described.map((r) => [r.column_name.toLowerCase(), r.column_type]));
  const candidates = [
    ...[...table.keys, ...table.columns].map((c) => ({ ...c, ref: c.name })),
    ...table.changes.orderBy.map((o, i) => ({ ...o, ref: orderColumn(i), sensitive: false })),
  ];
  for (const c of candidates) {
    const v = quoteIdent(c.ref);
    for (const { condition, hint } of exactCastChecks(v, types.get(c.ref.toLowerCase()) ?? 'VARCHAR', c.type, { ...c, ...sourceReading(table.source) })) {
      const [hit] = await session.rows<{ file: string; line: string | number; value: string | null }>(
        `SELECT ${EVENT.file} AS file, ${EVENT.line} AS line, CAST(${v} AS VARCHAR) AS value FROM ${raw} ` +
          `WHERE ${v} IS NOT NULL AND NOT (${condition}) ORDER BY ${EVENT.file}, ${EVENT.line} LIMIT 1`,
      );
      if (hit) {
        return new DataError(castFailureMessage(c, hit.value, 'field') + (c.sensitive ? '' : hint), {
          ...eventPlace(table, hit).context,
          column: c.name,
          ...valueContext(c, hit.value),
        });
      }
    }
  }
  return classifyReadError(session, err, table, files.map((f) => f.path).join(', '));
}

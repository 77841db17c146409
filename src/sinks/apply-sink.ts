/**
 * Brings one sink of a table up to a committed business date: every committed date up to it
 * that the sink's markers do not name with its commit is applied, oldest first, one
 * transaction per date (so a sink that fell behind catches up in date order). The changes are
 * read from the DuckLake catalog in one read transaction and staged as local Parquet files
 * first, so the catalog is never held while the sink is slow.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { appendedColumns } from '../activities/shape-change';
import type { SinkSpec, TableConfig } from '../config/types';
import type { Engine, Session } from '../engine/duckdb';
import { lakeTables, withCatalog } from '../warehouse/catalog';
import { type CommitRecord, readCommitLog } from '../warehouse/commits';
import { hasSensitiveColumns, withheldQuotes } from '../warehouse/sensitive';
import { ConfigError, DataError, type ErrorContext } from '../errors';
import { quoteIdent } from '../engine/sql';
import { sinkOf } from './registry';
import type { SinkReport } from './sink';
import { columnProblems, type SinkColumns } from './sink-columns';
import {
  addColumnsSql,
  appliedDatesSql,
  applyDateSql,
  clearSinkSql,
  columnsSql,
  createSinkTablesSql,
  dataTables,
  type DateToApply,
  exportChangesSql,
  exportStateSql,
  localName,
  textHoldingSql,
  probeTableSql,
  refusalIn,
  rowCountSql,
  type SinkTableDefinition,
  sinkTableDefinitions,
  sinkTables,
  type SinkTarget,
} from './sink-sql';

async function inTransaction(session: Session, statements: readonly string[]): Promise<void> {
  await session.run('BEGIN TRANSACTION');
  try {
    for (const sql of statements) await session.run(sql);
    await session.run('COMMIT');
  } catch (err) {
    await session.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The error of a table (or its schema) that does not exist in the sink. */
export const MISSING_TABLE = /Catalog Error: (Table|Schema) with name .* does not exist/;

/** The sink's applied dates of the table: business date → commit id. */
export async function appliedDates(session: Session, table: TableConfig, target: SinkTarget): Promise<Map<string, string>> {
  const rows = await session.rows<{ business_date: string; commit_id: string }>(appliedDatesSql(table, target));
  return new Map(rows.map((r) => [r.business_date, r.commit_id]));
}

/** The table's columns (see `columnsSql`), or null when it does not exist. */
async function columnsOf(session: Session, target: SinkTarget, table: string): Promise<SinkColumns | null> {
  try {
    const rows = await session.rows<{ column_name: string; column_type: string; required: boolean }>(columnsSql(target, table));
    return rows.length ? new Map(rows.map((r) => [r.column_name, { type: r.column_type, required: r.required }])) : null;
  } catch (err) {
    if (MISSING_TABLE.test((err as Error).message)) return null;
    throw err;
  }
}

/**
 * Refuses sink tables whose columns are not what cdcflow creates (see `columnProblems`): applying
 * would fail on every retry (text into an integer column, a NOT NULL column left out), or worse,
 * succeed and round (a decimal into an integer column). What cdcflow creates is read from probe
 * tables made by its own CREATE TABLE in the same database and rolled back, so the types compare
 * as that database stores them (PostgreSQL keeps a TINYINT as smallint).
 */
async function checkColumns(session: Session, target: SinkTarget, existing: { d: SinkTableDefinition; found: SinkColumns }[], context: ErrorContext): Promise<void> {
  if (!existing.length) return;
  const problems: string[] = [];
  await session.run('BEGIN TRANSACTION');
  try {
    for (const { d, found } of existing) {
      const probe = probeTableSql(d, randomBytes(6).toString('hex'));
      await session.run(probe.create);
      // Named in messages as the database itself names them (without the attached alias).
      problems.push(...columnProblems(localName(target, d.table), (await columnsOf(session, target, probe.table))!, found));
    }
  } finally {
    await session.run('ROLLBACK').catch(() => undefined);
  }
  if (problems.length) {
    throw new ConfigError(
      `the sink's tables do not have the columns of the config: ${problems.join('; ')}. ` +
        'Give the columns their types again (and extra NOT NULL columns a default), or drop the table: the next run creates it and applies every date again',
      context,
    );
  }
}

/** The table's commit with this id, from the catalog's commit log (undefined once replaced). */
type CommitOf = (commitId: string) => Promise<CommitRecord | undefined>;

/**
 * Adds the columns the config appended (see appendedColumns) since the sink's latest applied date
 * to its tables that lack them, as the commit added them to the catalog's tables: the rows the
 * sink holds have them NULL, as the catalog's do. A column missing for another reason (dropped by
 * hand, or missing while the latest applied commit had it) is left to checkColumns, which refuses
 * it. Returns whether it added any.
 */
async function addAppendedColumns(
  session: Session,
  table: TableConfig,
  tables: readonly { d: SinkTableDefinition; found: SinkColumns | null }[],
  applied: ReadonlyMap<string, string>,
  commitOf: CommitOf,
): Promise<boolean> {
  const existing = tables.flatMap(({ d, found }) => (d.data && found ? [{ d, found }] : []));
  const lacking = existing.filter(({ d, found }) => d.columns.some((c) => !found.has(c.name)));
  const latest = [...applied.keys()].sort().at(-1);
  if (!lacking.length || !latest) return false;
  const shape = (await commitOf(applied.get(latest)!))?.shape;
  const present = existing.flatMap(({ found }) => [...found.keys()].map((name) => ({ name })));
  const appended = shape ? appendedColumns(table, { columns: present, changeRecords: false }, shape) : undefined;
  if (!appended) return false;
  const added = new Set(appended.map((c) => c.name));
  await inTransaction(
    session,
    lacking.flatMap(({ d, found }) => addColumnsSql(d.table, d.columns.filter((c) => !found.has(c.name) && added.has(c.name)))),
  );
  return true;
}

/** Whether `column` has values in `there` but none in `here` (both holding the column). */
async function valuesOnlyIn(session: Session, there: string, here: string, column: string): Promise<boolean> {
  const has = (table: string) => `EXISTS (SELECT 1 FROM ${table} WHERE ${quoteIdent(column)} IS NOT NULL)`;
  const [row] = await session.rows<{ moved: boolean }>(`SELECT NOT ${has(here)} AND ${has(there)} AS moved`);
  return row.moved;
}

/**
 * Columns marked or unmarked sensitive since the sink's tables were filled move between its main
 * tables and its sensitive ones: the config puts a column in one current table (main or
 * sensitive) whose counterpart in the other schema holds it, and the table lacks it (added here,
 * with its history table) or holds it without a value while the counterpart has values. Every
 * date must then be applied again: the column gets its values where the config puts it, and is
 * NULL in the other table. Returns whether any column moved.
 */
async function addMovedColumns(session: Session, table: TableConfig, target: SinkTarget, tables: readonly { d: SinkTableDefinition; found: SinkColumns | null }[]): Promise<boolean> {
  const found = new Map(tables.map((t) => [t.d.table, t.found]));
  const held = async (name: string) => (found.has(name) ? found.get(name)! : await columnsOf(session, target, name));
  const main = dataTables(table, target);
  const hidden = dataTables(table, target, true);
  const statements: string[] = [];
  let moved = false;
  for (const [here, there] of [[main, hidden], [hidden, main]]) {
    const columns = tables.find((t) => t.d.table === here.current)?.d.columns ?? [];
    const inHere = found.get(here.current);
    const inThere = inHere && columns.length ? await held(there.current) : null;
    for (const column of columns.filter((c) => inHere && inThere?.has(c.name))) {
      if (!inHere!.has(column.name)) {
        const history = found.get(here.history);
        statements.push(...addColumnsSql(here.current, [column]), ...(history && !history.has(column.name) ? addColumnsSql(here.history, [column]) : []));
        moved = true;
      } else if (await valuesOnlyIn(session, there.current, here.current, column.name)) moved = true;
    }
  }
  if (statements.length) await inTransaction(session, statements);
  return moved;
}

/**
 * Whether a current table of the sink holds another number of rows than the state of the latest
 * date its markers name: rows deleted or added by hand (a TRUNCATE), which the markers cannot
 * show. (A date whose commit was replaced since is rebuilt from the state anyway.)
 */
async function rowsChangedByHand(
  session: Session,
  table: TableConfig,
  target: SinkTarget,
  tables: readonly { d: SinkTableDefinition; found: SinkColumns | null }[],
  applied: ReadonlyMap<string, string>,
  commitOf: CommitOf,
): Promise<boolean> {
  const latest = [...applied.keys()].sort().at(-1);
  const commit = latest ? await commitOf(applied.get(latest)!) : undefined;
  if (!commit) return false;
  const { current, sensitiveCurrent } = sinkTables(table, target);
  for (const { d } of tables.filter((t) => t.found && (t.d.table === current || t.d.table === sensitiveCurrent))) {
    const [row] = await session.rows<{ n: number | string }>(rowCountSql(target, d.table));
    if (Number(row.n) !== commit.currentRows) return true;
  }
  return false;
}

/**
 * Checks the sink's tables that exist (see `checkColumns`), creates those missing and returns
 * the dates they hold. The markers vouch for the tables only while all of them are there: a
 * table dropped by hand (and created again empty here) while markers name dates, markers gone
 * beside filled tables, or rows deleted or added by hand would leave the sink wrong for good. Then the tables are
 * emptied and the markers removed, in the same transaction, so that every date is applied again
 * from the first, as into a new sink.
 */
async function prepareTables(
  session: Session,
  table: TableConfig,
  target: SinkTarget,
  context: ErrorContext,
  commitOf: CommitOf,
): Promise<{ applied: Map<string, string>; cleared: Map<string, string> }> {
  const tables: { d: SinkTableDefinition; found: SinkColumns | null }[] = [];
  for (const d of sinkTableDefinitions(table, target)) tables.push({ d, found: await columnsOf(session, target, d.table) });
  const markerFound = tables.some((t) => !t.d.data && t.found);
  const applied = markerFound ? await appliedDates(session, table, target) : new Map<string, string>();
  const moved = await addMovedColumns(session, table, target, tables);
  if ((await addAppendedColumns(session, table, tables, applied, commitOf)) || moved) {
    for (const t of tables) t.found = await columnsOf(session, target, t.d.table);
  }
  await checkColumns(session, target, tables.flatMap((t) => (t.found ? [{ ...t, found: t.found }] : [])), context);
  const lost = tables.some((t) => t.d.data && !t.found);
  const clear = applied.size === 0 || lost || moved || (await rowsChangedByHand(session, table, target, tables, applied, commitOf));
  try {
    const formerSensitive = moved && !hasSensitiveColumns(table);
    await inTransaction(session, [...createSinkTablesSql(table, target), ...(clear ? clearSinkSql(table, target, formerSensitive) : [])]);
  } catch (err) {
    throw sinkRefusal(table, 'the emptying of its tables (to apply every date again)', (err as Error)?.message ?? '', context) ?? err;
  }
  return clear ? { applied: new Map(), cleared: applied } : { applied, cleared: new Map() };
}

/**
 * One date in one transaction with its marker. Rows the sink refuses (a constraint, index or
 * trigger added by hand, which the column check does not see) are refused again on every retry:
 * see sinkRefusal.
 */
async function applyDate(session: Session, table: TableConfig, target: SinkTarget, d: DateToApply, context: ErrorContext): Promise<void> {
  try {
    await inTransaction(session, applyDateSql(table, target, d, randomBytes(6).toString('hex')));
  } catch (err) {
    const message = (err as Error)?.message ?? '';
    const character = unstorableCharacter(message);
    if (character) throw await characterRefusal(session, table, d, context, character, err);
    throw sinkRefusal(table, `the rows of ${d.businessDate}`, message, { ...context, businessDate: d.businessDate }) ?? err;
  }
}

const DUCKDB_CONSTRAINT = /^Constraint Error: (.*)$/m;

/**
 * The sink's refusal of a change (`what`), which every retry would meet again: PostgreSQL's (see
 * refusalIn: table, reason, SQLSTATE; its reasons name constraints, not values) or a DuckDB-file
 * sink's constraint (whose text quotes the key). A ConfigError, the transaction rolled back;
 * undefined for other errors.
 */
function sinkRefusal(table: TableConfig, what: string, message: string, context: ErrorContext): ConfigError | undefined {
  const postgres = refusalIn(message);
  const duckdb = DUCKDB_CONSTRAINT.exec(message)?.[1].trim().replace(/\.$/, '');
  if (!postgres && !duckdb) return undefined;
  const refused = postgres ? `PostgreSQL refused ${what} for ${postgres}` : `the sink refused ${what}: ${withheldQuotes(table, duckdb!)}`;
  return new ConfigError(
    `${refused}. Nothing of the date was applied: make the table take the change again (a constraint, index or trigger added by hand?), then run the date again`,
    context,
  );
}

/** DuckDB's postgres extension refusing text with a NUL character, which PostgreSQL cannot store. */
const NUL_REFUSED = /Attempting to write a VARCHAR value with a NULL-byte/;

/** PostgreSQL refusing a character (sent as UTF-8) that its database's encoding lacks. */
const UNTRANSLATABLE = /character with byte sequence ((?:0x[0-9a-f]{2} ?)+) in encoding "UTF8" has no equivalent in encoding "([^"]+)"/;

/** A character of the staged text that the sink cannot store, what to say of it; null for other errors. */
function unstorableCharacter(message: string): { codePoint: number; what: string; remedy: string } | null {
  if (NUL_REFUSED.test(message)) {
    return { codePoint: 0, what: 'a NUL character, which PostgreSQL cannot store in text', remedy: 'remove the character at the source' };
  }
  const untranslatable = UNTRANSLATABLE.exec(message);
  if (!untranslatable) return null;
  const character = Buffer.from(untranslatable[1].trim().split(' ').map((byte) => parseInt(byte, 16))).toString('utf8');
  const codePoint = character.codePointAt(0)!;
  return {
    codePoint,
    what: `the character "${character}" (U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}), which the sink database's encoding, ${untranslatable[2]}, lacks`,
    remedy: 'give the sink a database whose encoding is UTF8, or remove the character at the source',
  };
}

/** The refusal of a date whose rows hold a character the sink cannot store, naming the first such value. */
async function characterRefusal(
  session: Session,
  table: TableConfig,
  d: DateToApply,
  context: ErrorContext,
  character: { codePoint: number; what: string; remedy: string },
  cause: unknown,
): Promise<DataError> {
  const sql = textHoldingSql(table, [...d.changes, ...(d.state ?? [])], character.codePoint);
  const [hit] = sql ? await session.rows<{ column_name: string; key_text: string }>(sql) : [];
  const where = hit ? `column "${hit.column_name}" of the row with key ${hit.key_text}` : 'a text column';
  return new DataError(
    `${where} holds ${character.what}. Nothing of ${d.businessDate} was applied to the sink ` +
      `(the date is committed): ${character.remedy}, then run the date again`,
    { ...context, businessDate: d.businessDate, ...(hit ? { column: hit.column_name, key: hit.key_text } : {}) },
    { cause },
  );
}

export function applySinkChanges(engine: Engine, session: Session, table: TableConfig, sink: SinkSpec, businessDate: string): Promise<SinkReport> {
  const kind = sinkOf(sink);
  return kind.withTarget(session, sink, table, async (db) => {
    const target = { db, schema: sink.schema, native: kind.native };
    const context = { dataset: table.dataset, table: table.name, sink: sink.name };
    // Read once: the appended columns and the check for rows changed by hand both look commits up.
    let log: Promise<CommitRecord[]> | undefined;
    const commitOf: CommitOf = async (commitId) => {
      log ??= withCatalog(engine, table.warehouse, (s, alias) => readCommitLog(s, lakeTables(alias, table.dataset, table.name)));
      return (await log).find((c) => c.commitId === commitId);
    };
    const { applied, cleared } = await prepareTables(session, table, target, context, commitOf);
    const dir = await mkdtemp(path.join(tmpdir(), 'cdcflow-sink-'));
    try {
      const pending = await stageChanges(engine, table, applied, businessDate, dir);
      for (const d of pending) await applyDate(session, table, target, d, context);
      const dates = [...applied.keys(), ...pending.map((d) => d.businessDate)].sort();
      return {
        sink: sink.name,
        type: sink.type,
        applied: pending.map((d) => ({
          businessDate: d.businessDate,
          commitId: d.commitId,
          inserts: d.counts.I,
          updates: d.counts.U,
          deletes: d.counts.D,
          rebuilt: d.state !== null || cleared.has(d.businessDate),
        })),
        lastApplied: dates.at(-1) ?? null,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

/**
 * The current rows, by OPERATION, that the latest date's apply writes again besides its changes.
 * Ignored columns change on N rows without a history row: the latest date refreshes them. A
 * sink that missed dates (catching up, or filled anew) missed their refreshes too, which rows
 * the latest date left alone (X: not supplied to a delta) may still lack: then those as well.
 */
function refreshedRows(table: TableConfig, latest: boolean, pendingDates: number): ('N' | 'X')[] {
  if (!latest || table.ignore.length === 0) return [];
  return pendingDates > 1 ? ['N', 'X'] : ['N'];
}

/** The dates to apply, each with its changes written to Parquet files in `dir`. */
function stageChanges(engine: Engine, table: TableConfig, applied: ReadonlyMap<string, string>, businessDate: string, dir: string): Promise<DateToApply[]> {
  return withCatalog(engine, table.warehouse, async (session, alias) => {
    const lake = lakeTables(alias, table.dataset, table.name);
    // One read transaction: the log and the rows it describes come from one snapshot.
    await session.run('BEGIN TRANSACTION');
    try {
      const log = await readCommitLog(session, lake);
      const latest = log.at(-1);
      const pending = log.filter((c) => c.businessDate <= businessDate && applied.get(c.businessDate) !== c.commitId);
      const staged: DateToApply[] = [];
      let statePath: string | null = null;
      for (const c of pending) {
        const changes = path.join(dir, `changes-${c.businessDate}.parquet`);
        await session.run(exportChangesSql(lake, c.businessDate, refreshedRows(table, c === latest && c === pending.at(-1), pending.length), changes));
        let state: string[] | null = null;
        if (applied.has(c.businessDate)) {
          if (!statePath) {
            statePath = path.join(dir, 'state.parquet');
            await session.run(exportStateSql(lake, statePath));
          }
          state = [statePath];
        }
        staged.push({ businessDate: c.businessDate, commitId: c.commitId, counts: c.counts, changes: [changes], state });
      }
      return staged;
    } finally {
      await session.run('ROLLBACK').catch(() => undefined);
    }
  });
}

/**
 * SQL that keeps a sink (a database attached to the DuckDB session: a DuckDB file or
 * PostgreSQL) in sync with a table's commits, as pure functions of the table config.
 *
 *   <schema>.<table>_current            the current state, sensitive columns left out
 *   <schema>.<table>_history            every applied date's I, U and D rows (EFF_START_DATE)
 *   <schema>.cdcflow_applied            one marker row per applied (dataset, table, date): its commit
 *   <schema>_sensitive.<table>_current  KEY_HASH and the sensitive columns (only with sensitive columns)
 *   <schema>_sensitive.<table>_history  KEY_HASH, OPERATION, EFF_START_DATE and the sensitive columns
 *
 * A date is applied in one transaction that first writes its marker row (the primary key makes
 * a second applier of the same date fail and retry, then find it applied), then the changes
 * loaded into a staging table in the target: deletes and upserts by KEY_HASH on current, the
 * date's rows replaced in history.
 */
import type { ColumnSpec, TableConfig } from '../config/types';
import { dateLiteral, dollarQuoted, fileListLiteral, keyTextSql, quoteIdent, quoteLiteral } from '../engine/sql';

type Shape = Pick<TableConfig, 'dataset' | 'name' | 'keys' | 'columns'>;

/** Where in the attached database the sink's tables live. */
export interface SinkTarget {
  /** The attached database's alias (empty: names without one, as the database itself sees them). */
  db: string;
  schema: string;
  /** PostgreSQL: rows move between its tables by statements run in PostgreSQL itself. */
  native?: boolean;
}

const META = ['OPERATION VARCHAR', 'EFF_START_DATE DATE', 'KEY_HASH UUID', 'NONKEY_HASH UUID'];
const META_NAMES = ['OPERATION', 'EFF_START_DATE', 'KEY_HASH', 'NONKEY_HASH'];

const typed = (cs: readonly ColumnSpec[]) => cs.map((c) => `${quoteIdent(c.name)} ${c.type.toUpperCase()}`);
const names = (cs: readonly ColumnSpec[]) => cs.map((c) => quoteIdent(c.name));
const mainColumns = (t: Shape) => [...t.keys, ...t.columns.filter((c) => !c.sensitive)];
const sensitiveOf = (t: Shape) => t.columns.filter((c) => c.sensitive);

function schemaRef(target: SinkTarget, sensitive = false): string {
  return `${target.db ? `${quoteIdent(target.db)}.` : ''}${quoteIdent(sensitive ? `${target.schema}_sensitive` : target.schema)}`;
}

export interface SinkTables {
  current: string;
  history: string;
  marker: string;
  /** Null when the table has no sensitive columns. */
  sensitiveCurrent: string | null;
  sensitiveHistory: string | null;
}

/** Where the table's current state and history are in a schema of the sink (the main one, or the sensitive one). */
export function dataTables(t: Pick<Shape, 'name'>, target: SinkTarget, sensitive = false): { current: string; history: string } {
  const schema = schemaRef(target, sensitive);
  return { current: `${schema}.${quoteIdent(`${t.name}_current`)}`, history: `${schema}.${quoteIdent(`${t.name}_history`)}` };
}

export function sinkTables(t: Shape, target: SinkTarget): SinkTables {
  const hidden = sensitiveOf(t).length > 0 ? dataTables(t, target, true) : null;
  return {
    ...dataTables(t, target),
    marker: `${schemaRef(target)}.cdcflow_applied`,
    sensitiveCurrent: hidden?.current ?? null,
    sensitiveHistory: hidden?.history ?? null,
  };
}

export const MARKER_COLUMNS =
  'dataset VARCHAR, table_name VARCHAR, business_date DATE, commit_id VARCHAR, inserts BIGINT, updates BIGINT, deletes BIGINT, ' +
  'applied_at TIMESTAMPTZ, PRIMARY KEY (dataset, table_name, business_date)';

/** One table of the sink: where it is and what cdcflow creates it with. */
export interface SinkTableDefinition {
  table: string;
  /** The table's schema, as `table` names it. */
  schema: string;
  /** The column definitions (and primary key) inside CREATE TABLE's parentheses. */
  definition: string;
  /** Holds the table's rows (current or history); the marker table does not. */
  data: boolean;
  /** The config's columns it holds (none for the marker table). */
  columns: readonly ColumnSpec[];
}

/** The sink's tables of one config table, with their definitions from the config's types. */
export function sinkTableDefinitions(t: Shape, target: SinkTarget): SinkTableDefinition[] {
  const tables = sinkTables(t, target);
  const data = mainColumns(t);
  const main = schemaRef(target);
  const definitions: SinkTableDefinition[] = [
    { table: tables.current, schema: main, definition: [...typed(data), ...META, 'PRIMARY KEY (KEY_HASH)'].join(', '), data: true, columns: data },
    { table: tables.history, schema: main, definition: [...typed(data), ...META].join(', '), data: true, columns: data },
    { table: tables.marker, schema: main, definition: MARKER_COLUMNS, data: false, columns: [] },
  ];
  if (tables.sensitiveCurrent && tables.sensitiveHistory) {
    const columns = sensitiveOf(t);
    const hidden = typed(columns);
    const schema = schemaRef(target, true);
    definitions.push(
      { table: tables.sensitiveCurrent, schema, definition: ['KEY_HASH UUID', ...hidden, 'PRIMARY KEY (KEY_HASH)'].join(', '), data: true, columns },
      { table: tables.sensitiveHistory, schema, definition: ['KEY_HASH UUID', 'OPERATION VARCHAR', 'EFF_START_DATE DATE', ...hidden].join(', '), data: true, columns },
    );
  }
  return definitions;
}

/** Adds `columns` to a sink table (they are NULL in its rows, as in the catalog's rows committed before them). */
export function addColumnsSql(table: string, columns: readonly ColumnSpec[]): string[] {
  return typed(columns).map((column) => `ALTER TABLE ${table} ADD COLUMN ${column}`);
}

/** The schemas and tables, from the config's types, where missing. */
export function createSinkTablesSql(t: Shape, target: SinkTarget): string[] {
  const [current, history, marker, ...sensitive] = sinkTableDefinitions(t, target).map((d) => `CREATE TABLE IF NOT EXISTS ${d.table} (${d.definition})`);
  const statements = [`CREATE SCHEMA IF NOT EXISTS ${schemaRef(target)}`, current, history, marker];
  if (sensitive.length) statements.push(`CREATE SCHEMA IF NOT EXISTS ${schemaRef(target, true)}`, ...sensitive);
  return statements;
}

/**
 * A table of the definition under another name beside it (`probeId` makes the name unique): its
 * columns, as the database reports them, are what cdcflow's own CREATE TABLE gives there.
 */
export function probeTableSql(d: SinkTableDefinition, probeId: string): { table: string; create: string } {
  const table = `${d.schema}.${quoteIdent(`cdcflow_probe_${probeId}`)}`;
  return { table, create: `CREATE TABLE ${table} (${d.definition})` };
}

/** `table`, named through the target's attached alias, as the database itself names it. */
export function localName(target: SinkTarget, table: string): string {
  const alias = `${quoteIdent(target.db)}.`;
  if (!table.startsWith(alias)) throw new Error(`${table} is not in the attached database ${target.db}`);
  return table.slice(alias.length);
}

/**
 * The columns of a sink table (named through the alias), in its order: `column_name`,
 * `column_type`, and `required` (NOT NULL without a default: an insert that leaves it out fails).
 * PostgreSQL's types are its own full names from its catalog, modifiers included
 * (`character varying(10)`, `timestamp(0) with time zone`): DuckDB reads such a column back as
 * plain VARCHAR or TIMESTAMPTZ. A missing table gives no rows there, a Catalog Error in DuckDB.
 */
export function columnsSql(target: SinkTarget, table: string): string {
  if (!target.native) return `SELECT column_name, column_type, "null" = 'NO' AND "default" IS NULL AS required FROM (DESCRIBE ${table})`;
  const pg =
    "SELECT attname AS column_name, format_type(atttypid, atttypmod) AS column_type, attnotnull AND NOT atthasdef AND attidentity = '' AND attgenerated = '' AS required " +
    `FROM pg_attribute WHERE attrelid = to_regclass(${quoteLiteral(localName(target, table))}) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`;
  return `SELECT * FROM postgres_query(${quoteLiteral(target.db)}, ${quoteLiteral(pg)})`;
}

/** The number of rows (`n`) of a sink table, counted by the database itself. */
export function rowCountSql(target: SinkTarget, table: string): string {
  if (!target.native) return `SELECT count(*) AS n FROM ${table}`;
  return `SELECT * FROM postgres_query(${quoteLiteral(target.db)}, ${quoteLiteral(`SELECT count(*) AS n FROM ${localName(target, table)}`)})`;
}

/**
 * Empties the table's sink tables and removes its markers, so that the dates are applied again
 * from the first, as into a new sink: for a sink whose markers no longer describe its tables
 * (a table dropped and created again empty, or markers gone, or columns moved in or out of the
 * sensitive tables). `formerSensitive`: the sensitive tables of a table that has no sensitive
 * columns any more are emptied too, so that they keep no values that are no longer kept up to date.
 */
export function clearSinkSql(t: Shape, target: SinkTarget, formerSensitive = false): string[] {
  const { inside, run } = whereRowsMove(target);
  const hidden = formerSensitive ? Object.values(dataTables(t, inside, true)) : [];
  const data = [
    ...sinkTableDefinitions(t, inside)
      .filter((d) => d.data)
      .map((d) => d.table),
    ...hidden,
  ];
  return [`DELETE FROM ${sinkTables(t, target).marker} WHERE ${markerOf(t)}`, ...data.map((table) => run(`DELETE FROM ${table}`, table))];
}

/**
 * Where the statements that move rows (into `table`) run, and how they name the tables there:
 * with `target.native` (PostgreSQL) inside the database itself (`postgres_execute`, same
 * transaction), its refusals of the rows named (see `namingRefusals`).
 */
function whereRowsMove(target: SinkTarget): { inside: SinkTarget; run: (sql: string, table: string) => string } {
  if (!target.native) return { inside: target, run: (sql) => sql };
  return { inside: { ...target, db: '' }, run: (sql, table) => `CALL postgres_execute(${quoteLiteral(target.db)}, ${quoteLiteral(namingRefusals(sql, table))})` };
}

/**
 * `sql` run by PostgreSQL so that its refusal of the rows, a data exception (SQLSTATE class 22:
 * a value too long), an integrity violation (23: a NOT NULL, CHECK or foreign key constraint) or
 * a trigger's RAISE EXCEPTION (P0001), is raised again with the table and the SQLSTATE in the
 * message: DuckDB's postgres extension passes on the message only. EXECUTE keeps PL/pgSQL's own
 * names (FOUND) apart from the columns.
 */
function namingRefusals(sql: string, table: string): string {
  const reraise = `RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = format('%s: %s (SQLSTATE %s)', ${quoteLiteral(table)}, SQLERRM, SQLSTATE)`;
  const refusals = 'data_exception OR integrity_constraint_violation OR raise_exception';
  return `DO ${dollarQuoted(`BEGIN EXECUTE ${quoteLiteral(sql)}; EXCEPTION WHEN ${refusals} THEN ${reraise}; END`)}`;
}

/**
 * The refusal raised by `namingRefusals` in an error's message (table, reason, SQLSTATE), or
 * null. The message quotes the query first, whose `(SQLSTATE %s)` holds no code.
 */
export function refusalIn(message: string): string | null {
  return /ERROR: {2}(.+ \(SQLSTATE (?:2[23][0-9A-Z]{3}|P0001)\))$/m.exec(message)?.[1] ?? null;
}

/** The marker rows of the table (of one date when given). */
const markerOf = (t: Shape, date?: string) =>
  `dataset = ${quoteLiteral(t.dataset)} AND table_name = ${quoteLiteral(t.name)}${date ? ` AND business_date = ${date}` : ''}`;

/** The marker rows of a table, oldest first. */
export function appliedDatesSql(t: Shape, target: SinkTarget): string {
  return `SELECT CAST(business_date AS VARCHAR) AS business_date, commit_id FROM ${sinkTables(t, target).marker} WHERE ${markerOf(t)} ORDER BY business_date`;
}

export interface DateToApply {
  businessDate: string;
  commitId: string;
  counts: { I: number; U: number; D: number };
  /** Parquet files of the staged rows: the date's I, U and D rows (and N rows to refresh). */
  changes: string[];
  /** The sink holds another commit of this date: current is rebuilt from `state` instead. */
  state: string[] | null;
}

/**
 * One date, in one transaction (the caller's BEGIN/COMMIT). `stageId` makes the staging tables'
 * names unique (short: PostgreSQL cuts identifiers at 63 bytes). The staging tables are loaded by
 * DuckDB from the Parquet files; with `target.native` (PostgreSQL) the statements that move rows
 * from them run inside PostgreSQL (`postgres_execute`, same transaction), not through DuckDB.
 */
export function applyDateSql(t: Shape, target: SinkTarget, d: DateToApply, stageId: string): string[] {
  const tables = sinkTables(t, target);
  const stageName = quoteIdent(`cdcflow_stage_${stageId}`);
  const stateName = quoteIdent(`cdcflow_state_${stageId}`);
  const { inside, run } = whereRowsMove(target);
  const here = sinkTables(t, inside);
  const staging = `${schemaRef(inside)}.${stageName}`;
  const stateStaging = `${schemaRef(inside)}.${stateName}`;
  const date = dateLiteral(d.businessDate);
  const [OPERATION, EFF_START_DATE, KEY_HASH] = META_NAMES.map(quoteIdent);
  const main = [...names(mainColumns(t)), ...META_NAMES.map(quoteIdent)].join(', ');
  const marker = markerOf(t, date);
  const n = (v: number) => String(Math.trunc(v));
  const sql = [
    `DELETE FROM ${tables.marker} WHERE ${marker}`,
    `INSERT INTO ${tables.marker} VALUES (${quoteLiteral(t.dataset)}, ${quoteLiteral(t.name)}, ${date}, ${quoteLiteral(d.commitId)}, ` +
      `${n(d.counts.I)}, ${n(d.counts.U)}, ${n(d.counts.D)}, now())`,
    `CREATE TABLE ${schemaRef(target)}.${stageName} AS SELECT * FROM read_parquet(${fileListLiteral(d.changes)}, hive_partitioning = false)`,
  ];
  const upsert = (table: string, columns: string) =>
    (d.state
      ? [`DELETE FROM ${table}`, `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM ${stateStaging}`]
      : [
          `DELETE FROM ${table} WHERE ${KEY_HASH} IN (SELECT ${KEY_HASH} FROM ${staging})`,
          `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM ${staging} WHERE ${OPERATION} <> 'D'`,
        ]
    ).map((sql) => run(sql, table));
  const replaceHistory = (table: string, columns: string) =>
    [
      `DELETE FROM ${table} WHERE ${EFF_START_DATE} = ${date}`,
      `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM ${staging} WHERE ${OPERATION} IN ('I', 'U', 'D') AND ${EFF_START_DATE} = ${date}`,
    ].map((sql) => run(sql, table));
  if (d.state) sql.push(`CREATE TABLE ${schemaRef(target)}.${stateName} AS SELECT * FROM read_parquet(${fileListLiteral(d.state)}, hive_partitioning = false)`);
  sql.push(...upsert(here.current, main), ...replaceHistory(here.history, main));
  if (here.sensitiveCurrent && here.sensitiveHistory) {
    const hidden = names(sensitiveOf(t)).join(', ');
    sql.push(...upsert(here.sensitiveCurrent, `${KEY_HASH}, ${hidden}`), ...replaceHistory(here.sensitiveHistory, `${KEY_HASH}, ${OPERATION}, ${EFF_START_DATE}, ${hidden}`));
  }
  if (d.state) sql.push(`DROP TABLE ${schemaRef(target)}.${stateName}`);
  sql.push(`DROP TABLE ${schemaRef(target)}.${stageName}`);
  return sql;
}

/**
 * What a date stages from the catalog: its history rows, and (refreshing ignored columns) the
 * current rows whose OPERATION is one of `refreshed` (N, and X too after missed dates).
 */
export function exportChangesSql(lake: { current: string; history: string }, businessDate: string, refreshed: readonly ('N' | 'X')[], outPath: string): string {
  const history = `SELECT * FROM ${lake.history} WHERE EFF_START_DATE = ${dateLiteral(businessDate)}`;
  const unchanged = refreshed.length ? ` UNION ALL BY NAME SELECT * FROM ${lake.current} WHERE OPERATION IN (${refreshed.map(quoteLiteral).join(', ')})` : '';
  return `COPY (${history}${unchanged}) TO ${quoteLiteral(outPath)} (FORMAT parquet)`;
}

/**
 * The first text value of the staged files holding the character of code point `codePoint` (a NUL,
 * which PostgreSQL cannot store in text; one the sink database's encoding lacks): `column_name`,
 * `key_text` (the row's key, its NULs shown as `\0`); null when the table has no text column.
 */
export function textHoldingSql(t: Shape, files: readonly string[], codePoint: number): string | null {
  const text = [...t.keys, ...t.columns].filter((c) => c.type === 'varchar');
  if (!text.length || !files.length) return null;
  const key = `replace(${keyTextSql(t.keys)}, chr(0), '\\0')`;
  const hits = text.map(
    (c) =>
      `SELECT ${quoteLiteral(c.name)} AS column_name, ${key} AS key_text FROM read_parquet(${fileListLiteral(files)}, hive_partitioning = false) WHERE strpos(${quoteIdent(c.name)}, chr(${codePoint})) > 0`,
  );
  return `SELECT column_name, key_text FROM (${hits.join(' UNION ALL ')}) ORDER BY key_text, column_name LIMIT 1`;
}

/** The whole current state, for a sink that holds another commit of a date. */
export function exportStateSql(lake: { current: string }, outPath: string): string {
  return `COPY (SELECT * FROM ${lake.current}) TO ${quoteLiteral(outPath)} (FORMAT parquet)`;
}

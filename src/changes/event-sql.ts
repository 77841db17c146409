/**
 * SQL for change-record tables, as pure functions of the table config and file paths.
 *
 * The hash stage turns the batch's files into one events file (every event, typed and hashed).
 * The diff compacts it to one row per key, the newest event by `orderBy`, keeps the events that
 * are newer than what the state holds for their key (the "effective" events), applies them to the
 * base state and derives the new ordering state: per key the ordering value of the event its row
 * reflects, and tombstones for deleted keys.
 */
import type { ChangesSpec, ColumnSpec, TableConfig } from '../config/types';
import { hashExpression } from '../engine/hashing';
import { dateLiteral, keyTextSql, quoteIdent, quoteLiteral } from '../engine/sql';
import { comparedColumns, copyTo, diffSql, readOwnParquet } from '../engine/stage-sql';
import { roundedJsonNumberSql, type SourceReading, strictCastSql } from '../engine/strict-cast';
import { fileLinesSql, lineBreaksBeforeSql } from '../sources/file-lines';

export type ChangeTable = Pick<TableConfig, 'keys' | 'columns' | 'ignore'> & { changes: ChangesSpec };

/** Internal columns of the events file; the prefix keeps them apart from source columns. */
export const EVENT = {
  file: '__cdcflow_file',
  line: '__cdcflow_line',
  /** File number and line: the event's position in the batch. */
  position: '__cdcflow_position',
  /** The operation value as the source wrote it. */
  op: '__cdcflow_op',
  /** I, U or D (T: a Debezium truncate); NULL for a value no list names. */
  kind: '__cdcflow_kind',
  /** False for a Debezium line that is not JSON. */
  valid: '__cdcflow_valid',
  /** False for a Debezium event without the row image it needs (`after`, or `before` for a delete). */
  present: '__cdcflow_present',
  /** The first configured field a Debezium `after` image lacks (a missing field is not a NULL). */
  absent: '__cdcflow_absent',
  /** The first configured field holding Debezium's placeholder for a value it could not read. */
  unavailable: '__cdcflow_unavailable',
  /** The first configured field of a Debezium event holding a JSON number that DuckDB's JSON reader may have rounded. */
  rounded: '__cdcflow_rounded',
} as const;

/**
 * What Debezium writes for a value it does not have: by default, an unchanged TOASTed column of
 * an update under REPLICA IDENTITY DEFAULT.
 */
export const DEBEZIUM_UNAVAILABLE_VALUE = '__debezium_unavailable_value';

/** The i-th ordering value (0-based) in the events and ordering-state files. */
export const orderColumn = (i: number): string => `__cdcflow_order_${i + 1}`;

/** Lines are below 2^40 in any file, so file number and line combine into one BIGINT. */
const FILE_STRIDE = 2 ** 40;

function dataColumns(t: Pick<TableConfig, 'keys' | 'columns'>): ColumnSpec[] {
  return [...t.keys, ...t.columns];
}

const orderNames = (t: ChangeTable) => t.changes.orderBy.map((_, i) => orderColumn(i));
const tuple = (alias: string, names: readonly string[]) => `(${names.map((n) => `${alias}.${quoteIdent(n)}`).join(', ')})`;

/** A file of the batch as the raw-events reader needs it. */
export interface EventFile {
  path: string;
  /** What events name as their file (an S3 source file's URL, not the local copy read). */
  name: string;
  /** Its place in the batch (files sorted by path). */
  index: number;
  /** The columns it has, by the source's names (CSV: the header; Parquet/JSON: as described). */
  columns: string[];
}

/** How a file's rows map to its lines: row N is on line N + offset, and (CSV) below the line breaks inside earlier rows' fields. */
export interface EventLines {
  offset: number;
  breaks: boolean;
}

/**
 * One file of a CSV, Parquet or JSON source as raw events: the configured columns, the
 * operation and ordering columns under internal names, and, given `lines`, file, line and
 * position. Numbering rows costs a sequential read, so the happy path leaves them out and only
 * locating a bad event asks for them. `read` reads the file.
 */
export function tabularEventsSql(t: ChangeTable, read: string, file: EventFile, lines: EventLines | null): string {
  const row = '__cdcflow_row';
  const cols = [
    ...dataColumns(t).map((c) => `n.${quoteIdent(c.name)}`),
    `n.${quoteIdent(t.changes.operation.column)} AS ${EVENT.op}`,
    ...t.changes.orderBy.map((o, i) => `n.${quoteIdent(o.name)} AS ${orderColumn(i)}`),
    ...(lines === null
      ? []
      : [
          `${quoteLiteral(file.name)} AS ${EVENT.file}`,
          `n.${row} + ${lines.offset}${lines.breaks ? ` + ${lineBreaksBeforeSql(file.columns, `n.${row}`, 'n')}` : ''} AS ${EVENT.line}`,
          `CAST(${file.index * FILE_STRIDE} + n.${row} AS BIGINT) AS ${EVENT.position}`,
        ]),
    `true AS ${EVENT.valid}`,
    `true AS ${EVENT.present}`,
    `CAST(NULL AS VARCHAR) AS ${EVENT.absent}`,
    `CAST(NULL AS VARCHAR) AS ${EVENT.unavailable}`,
    `CAST(NULL AS VARCHAR) AS ${EVENT.rounded}`,
  ];
  if (lines === null) return `SELECT ${cols.join(', ')} FROM ${read} n`;
  const names = [...file.columns, row].map(quoteIdent).join(', ');
  return `SELECT ${cols.join(', ')} FROM ${read} WITH ORDINALITY AS n(${names})`;
}

/** A JSONPath selecting one key of an object, whatever characters the key holds. */
function jsonKey(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A JSONPath from a dotted field path (`source.lsn`). */
export function jsonPath(dotted: string): string {
  return quoteLiteral(`$.${dotted.split('.').map(jsonKey).join('.')}`);
}

const fieldPath = (c: ColumnSpec) => quoteLiteral(`$.${jsonKey(c.name)}`);
const placeholderIn = (row: string, c: ColumnSpec) => `json_extract_string(${row}, ${fieldPath(c)}) = ${quoteLiteral(DEBEZIUM_UNAVAILABLE_VALUE)}`;

/**
 * A value of Debezium's row image as text for the strict cast. The PostgreSQL connector writes
 * `date` as days and `timestamp` as microseconds since 1970 by default: those become the text
 * of the date or time; everything else is taken as written. The unavailable-value placeholder
 * becomes NULL here, so that its check, not the cast, reports it.
 */
function debeziumValue(row: string, c: ColumnSpec): string {
  const path = fieldPath(c);
  const text = `nullif(json_extract_string(${row}, ${path}), ${quoteLiteral(DEBEZIUM_UNAVAILABLE_VALUE)})`;
  const isInteger = `json_type(${row}, ${path}) IN ('BIGINT', 'UBIGINT')`;
  // A number out of the type's range stays as written, for the strict cast to refuse by line and field.
  const converted = (sql: string) => `CASE WHEN ${isInteger} THEN coalesce(try(${sql}), ${text}) ELSE ${text} END`;
  if (c.type === 'date') return converted(`CAST(DATE '1970-01-01' + TRY_CAST(${text} AS INTEGER) AS VARCHAR)`);
  if (c.type === 'timestamp') return converted(`strftime(make_timestamp(TRY_CAST(${text} AS BIGINT)), '%Y-%m-%d %H:%M:%S.%f')`);
  return text;
}

/**
 * Whether field `c` of a row image holds a JSON number the reader may have rounded (roundedJsonNumberSql).
 * DuckDB keeps a number it cannot read as a finite double or a 64-bit integer as written (a whole
 * number beyond 64 bits, a number beyond a double's range): that text is exact, and it alone has
 * no point and no exponent, or is infinite as a double.
 */
function roundedNumberIn(row: string, c: ColumnSpec): string {
  const path = fieldPath(c);
  const text = `json_extract_string(${row}, ${path})`;
  const rounded = roundedJsonNumberSql(`TRY_CAST(${text} AS DOUBLE)`, c.type);
  if (!rounded) return 'false';
  return `json_type(${row}, ${path}) = 'DOUBLE' AND regexp_matches(${text}, '[.eE]') AND NOT isinf(TRY_CAST(${text} AS DOUBLE)) AND ${rounded}`;
}

/** The first configured field holding a rounded JSON number (roundedNumberIn); of a delete's `before`, only its keys count. */
function firstRoundedField(t: ChangeTable, op: string, row: string): string {
  const first = (columns: readonly ColumnSpec[]) => `coalesce(${columns.map((c) => `CASE WHEN ${roundedNumberIn(row, c)} THEN ${quoteLiteral(c.name)} END`).join(', ')})`;
  return `CASE WHEN ${op} = 'd' THEN ${first(t.keys)} ELSE ${first(dataColumns(t))} END`;
}

/**
 * The name of the first configured field for which `test` holds in a row image that gives values
 * (not a delete's `before`, of which only the key is used), else NULL.
 */
function firstFieldWhere(t: ChangeTable, op: string, test: (c: ColumnSpec) => string): string {
  const hits = dataColumns(t).map((c) => `CASE WHEN ${test(c)} THEN ${quoteLiteral(c.name)} END`);
  return `CASE WHEN ${op} <> 'd' THEN coalesce(${hits.join(', ')}) END`;
}

/**
 * One file of Debezium JSON change events (one per line, with or without the schema/payload
 * wrapper) as raw events. Key and values come from `after`, from `before` for a delete; the
 * ordering fields are paths into the event. Blank lines and Kafka tombstones (`null`, wrapped
 * or not) are skipped.
 */
export function debeziumEventsSql(t: ChangeTable, file: EventFile): string {
  const cols = [
    ...dataColumns(t).map((c) => `${debeziumValue('e.r', c)} AS ${quoteIdent(c.name)}`),
    `e.op AS ${EVENT.op}`,
    ...t.changes.orderBy.map((o, i) => `json_extract_string(e.p, ${jsonPath(o.name)}) AS ${orderColumn(i)}`),
    `${quoteLiteral(file.name)} AS ${EVENT.file}`,
    `e.line AS ${EVENT.line}`,
    `CAST(${file.index * FILE_STRIDE} + e.line AS BIGINT) AS ${EVENT.position}`,
    `e.valid AS ${EVENT.valid}`,
    `coalesce(json_type(e.r) = 'OBJECT', false) AS ${EVENT.present}`,
    `${firstFieldWhere(t, 'e.op', (c) => `NOT json_exists(e.r, ${fieldPath(c)})`)} AS ${EVENT.absent}`,
    `${firstFieldWhere(t, 'e.op', (c) => placeholderIn('e.r', c))} AS ${EVENT.unavailable}`,
    `${firstRoundedField(t, 'e.op', 'e.r')} AS ${EVENT.rounded}`,
  ];
  return (
    `SELECT ${cols.join(', ')} FROM (` +
    `SELECT line, valid, p, p->>'op' AS op, CASE WHEN p->>'op' = 'd' THEN p->'before' ELSE p->'after' END AS r FROM (` +
    `SELECT line, valid, CASE WHEN json_type(j, '$.payload') IN ('OBJECT', 'NULL') AND json_exists(j, '$.schema') THEN j->'payload' ELSE j END AS p FROM (` +
    `SELECT line, json_valid(text) AS valid, CASE WHEN json_valid(text) THEN CAST(text AS JSON) END AS j ` +
    `FROM ${fileLinesSql(file.path)} WITH ORDINALITY AS l(text, line) WHERE trim(text) <> '')) ` +
    `WHERE NOT valid OR json_type(p) <> 'NULL') e`
  );
}

/** The event's kind from its operation value: I, U, D (T: a Debezium truncate), NULL when unknown. */
export function eventKindSql(spec: ChangesSpec, debezium: boolean, op: string): string {
  const lists: [string, string[]][] = [
    ['I', spec.operation.insert],
    ['U', spec.operation.update],
    ['D', spec.operation.delete],
    ...(debezium ? ([['T', ['t']]] as [string, string[]][]) : []),
  ];
  const folded = `lower(trim(CAST(${op} AS VARCHAR)))`;
  const whens = lists.map(([kind, values]) => `WHEN ${folded} IN (${values.map((v) => quoteLiteral(v.trim().toLowerCase())).join(', ')}) THEN '${kind}'`);
  return `CASE ${whens.join(' ')} END`;
}

/**
 * Every event of the batch with its columns strictly cast (the ordering values too), its kind,
 * file, line and position when `places` (the raw relation has them), and the key and non-key
 * hashes. `sourceTypes`: the raw relation's DuckDB type per lower-cased column name; `reading`: how
 * the source was read (its JSON numbers).
 */
export function eventsSelectSql(t: ChangeTable, debezium: boolean, raw: string, sourceTypes: ReadonlyMap<string, string>, places: boolean, reading: SourceReading): string {
  const typeOf = (name: string) => sourceTypes.get(name.toLowerCase()) ?? 'VARCHAR';
  const cast = (ref: string, name: string, c: ColumnSpec) => `${strictCastSql(ref, typeOf(name), c.type, { ...c, ...reading })} AS ${quoteIdent(name)}`;
  const typed = [
    ...dataColumns(t).map((c) => cast(`s.${quoteIdent(c.name)}`, c.name, c)),
    `${eventKindSql(t.changes, debezium, `s.${EVENT.op}`)} AS ${EVENT.kind}`,
    `CAST(s.${EVENT.op} AS VARCHAR) AS ${EVENT.op}`,
    ...t.changes.orderBy.map((o, i) => cast(`s.${orderColumn(i)}`, orderColumn(i), o)),
    ...(places ? [`s.${EVENT.file}`, `s.${EVENT.line}`, `s.${EVENT.position}`] : []),
    `s.${EVENT.valid}`,
    `s.${EVENT.present}`,
    `s.${EVENT.absent}`,
    `s.${EVENT.unavailable}`,
    `s.${EVENT.rounded}`,
  ];
  return (
    `WITH typed AS (SELECT ${typed.join(', ')} FROM ${raw} s) ` +
    `SELECT *, ${hashExpression(t.keys, 'typed')} AS KEY_HASH, ${hashExpression(comparedColumns(t), 'typed')} AS NONKEY_HASH FROM typed`
  );
}

/** The events file (eventsSelectSql) of the happy path. */
export function eventsSql(t: ChangeTable, debezium: boolean, raw: string, sourceTypes: ReadonlyMap<string, string>, places: boolean, reading: SourceReading, outPath: string): string {
  return copyTo(eventsSelectSql(t, debezium, raw, sourceTypes, places, reading), outPath);
}

/**
 * What tells a duplicate delivery from a conflicting event of the same key and ordering values:
 * the kind and every non-key value (the compared ones through their hash, the ignored ones as
 * they are). A delete's values are none of it: it needs only the key, and its D row carries the
 * last committed values, so deletes of one key at one ordering value are one change.
 */
function eventContent(t: ChangeTable, alias?: string): string[] {
  const ref = (n: string) => (alias ? `${alias}.${n}` : n);
  const value = (n: string) => `CASE WHEN ${ref(EVENT.kind)} <> 'D' THEN ${ref(n)} END`;
  return [ref(EVENT.kind), value('NONKEY_HASH'), ...t.ignore.map((n) => value(quoteIdent(n)))];
}

const eventContentSql = (t: ChangeTable, alias?: string) => `row(${eventContent(t, alias).join(', ')})`;

/** A condition every event must fail, and the value worth quoting when one does not. */
export interface EventCheck {
  condition: string;
  value?: string;
}

/** One pass over the events: per check, how many events match it (check_0, …), and the events per kind. */
export function scanEventsSql(events: string, checks: readonly EventCheck[]): string {
  const matching = (c: EventCheck, i: number) => `count(*) FILTER (WHERE ${c.condition}) AS check_${i}`;
  const kinds = (['I', 'U', 'D'] as const).map((k, i) => `count(*) FILTER (WHERE ${EVENT.kind} = '${k}') AS ${['inserts', 'updates', 'deletes'][i]}`);
  return `SELECT ${['count(*) AS events', ...kinds, ...checks.map(matching)].join(', ')} FROM ${events}`;
}

/** The first event by file and line matching a check: file, line and the value worth quoting. */
export function firstMatchingEventSql(located: string, check: EventCheck): string {
  return (
    `SELECT ${EVENT.file} AS file, ${EVENT.line} AS line, CAST(${check.value ?? 'NULL'} AS VARCHAR) AS value FROM ${located} ` +
    `WHERE ${check.condition} ORDER BY ${EVENT.file}, ${EVENT.line} LIMIT 1`
  );
}

/**
 * Per key and ordering values: the copies of identical events beyond the first (duplicate
 * deliveries), and how many such groups hold different events (conflicts). One aggregate: a
 * group's events are identical when each content column has one value (NULL counting as one).
 * Duplicates are exact when there are no conflicts; otherwise see exactDuplicateEventsSql.
 */
export function duplicateEventsSql(t: ChangeTable, events: string): string {
  const group = ['KEY_HASH', ...orderNames(t)].map(quoteIdent).join(', ');
  const singleOrNull = (c: string) => `min(${c}) IS NOT DISTINCT FROM max(${c}) AND count(${c}) IN (0, count(*))`;
  const identical = eventContent(t).map(singleOrNull).join(' AND ');
  return (
    `SELECT coalesce(sum(n - 1) FILTER (WHERE identical), 0) AS duplicates, count(*) FILTER (WHERE NOT identical) AS conflicts FROM (` +
    `SELECT count(*) AS n, ${identical} AS identical FROM ${events} GROUP BY ${group} HAVING count(*) > 1)`
  );
}

/**
 * Duplicate deliveries counted where conflicting events may exist too (Debezium, where the
 * position breaks ties): identical events are grouped first, then their groups per key.
 */
export function exactDuplicateEventsSql(t: ChangeTable, events: string): string {
  const group = ['KEY_HASH', ...orderNames(t)].map(quoteIdent).join(', ');
  const content = eventContent(t).join(', ');
  return (
    `SELECT coalesce(sum(n - d), 0) AS duplicates FROM (` +
    `SELECT sum(copies) AS n, count(*) AS d FROM (SELECT ${group}, count(*) AS copies FROM ${events} GROUP BY ${group}, ${content}) ` +
    `GROUP BY ${group} HAVING sum(copies) > 1)`
  );
}

/**
 * The events of the first key (by hash) that has two different events with equal ordering
 * values, by file and line: a DataError, since neither can be called the newer one.
 */
export function conflictingEventsSql(t: ChangeTable, located: string): string {
  const group = ['KEY_HASH', ...orderNames(t)].map(quoteIdent).join(', ');
  const keyText = keyTextSql(t.keys, 'e');
  return (
    `WITH e AS (SELECT * FROM ${located}), g AS (SELECT ${group} FROM e GROUP BY ${group} ` +
    `HAVING count(DISTINCT ${eventContentSql(t)}) > 1 ORDER BY KEY_HASH LIMIT 1) ` +
    `SELECT e.${EVENT.file} AS file, e.${EVENT.line} AS line, CAST(${eventContentSql(t, 'e')} AS VARCHAR) AS content, ${keyText} AS key_text ` +
    `FROM e SEMI JOIN g USING (${group}) ORDER BY e.${EVENT.file}, e.${EVENT.line}`
  );
}

/** The order of a key's events, newest first: by the ordering values, then by position where positions break ties. */
function newestFirstSql(t: ChangeTable): string {
  const tieBreak = t.changes.positionBreaksTies ? [EVENT.position] : [];
  return [...orderNames(t), ...tieBreak].map((n) => `${quoteIdent(n)} DESC`).join(', ');
}

/**
 * Compaction: per key, the newest event of the batch's events file by the ordering values (then
 * by position where positions break ties; elsewhere events with equal ordering values are
 * identical by then). A relation the diff reads once, rather than a file of its own.
 */
export function newestEventsSql(t: ChangeTable, eventsPath: string): string {
  const newestFirst = newestFirstSql(t);
  const cols = [...dataColumns(t).map((c) => quoteIdent(c.name)), 'KEY_HASH', 'NONKEY_HASH', EVENT.kind, ...orderNames(t)].join(', ');
  return `(SELECT ${cols} FROM ${readOwnParquet(eventsPath)} QUALIFY row_number() OVER (PARTITION BY KEY_HASH ORDER BY ${newestFirst}) = 1)`;
}

/** The ordering state's columns: per key the ordering value it reflects, and the delete's date for a tombstone. */
export function orderStateColumnsDdl(t: ChangeTable): string {
  return ['KEY_HASH UUID', ...t.changes.orderBy.map((o, i) => `${orderColumn(i)} ${o.type.toUpperCase()}`), 'DELETED_ON DATE'].join(', ');
}

/** The base's ordering state as a relation: its files, or an empty relation for the first run. */
export function orderStateRelationSql(t: ChangeTable, files: readonly string[]): string {
  if (files.length > 0) return `(SELECT * FROM ${readOwnParquet(files)})`;
  const cols = ['CAST(NULL AS UUID) AS KEY_HASH', ...t.changes.orderBy.map((o, i) => `CAST(NULL AS ${o.type.toUpperCase()}) AS ${orderColumn(i)}`), 'CAST(NULL AS DATE) AS DELETED_ON'];
  return `(SELECT ${cols.join(', ')} LIMIT 0)`;
}

/**
 * The effective events: per key the newest event of the batch, when it is newer than what the
 * ordering state holds for the key (or the state does not know the key). A relation the diff
 * reads once.
 */
export function effectiveEventsSql(t: ChangeTable, eventsPath: string, orderState: string): string {
  return (
    `SELECT h.* FROM ${newestEventsSql(t, eventsPath)} h LEFT JOIN ${orderState} s ON h.KEY_HASH = s.KEY_HASH ` +
    `WHERE s.KEY_HASH IS NULL OR ${tuple('h', orderNames(t))} > ${tuple('s', orderNames(t))}`
  );
}

/**
 * The first event (by key hash, then place in the batch) whose ordering values equal those the
 * ordering state holds for its key, but which is not the event the state reflects: neither is
 * newer, so the batch is refused. Every event of the batch counts, not only its newest per key,
 * so that whether a feed is refused does not depend on how it was cut into batches. The state
 * reflects a delete (a tombstone, or no row), else the row's compared and ignored values: an
 * insert or update equal to the row is a re-delivery, as is a delete of a deleted key. File and
 * line come along where the events keep them (Debezium).
 */
export function stateConflictSql(t: ChangeTable, eventsPath: string, orderState: string, base: string): string {
  const deleted = 's.DELETED_ON IS NOT NULL OR b.KEY_HASH IS NULL';
  const sameRow = [`h.${EVENT.kind} <> 'D'`, 'h.NONKEY_HASH = b.NONKEY_HASH', ...t.ignore.map((n) => `h.${quoteIdent(n)} IS NOT DISTINCT FROM b.${quoteIdent(n)}`)];
  const places = t.changes.positionBreaksTies;
  const cols = [
    `${keyTextSql(t.keys, 'h')} AS key_text`,
    `${orderNames(t).map((o) => `CAST(h.${o} AS VARCHAR)`).join(` || ', ' || `)} AS order_values`,
    `h.${EVENT.kind} AS kind`,
    `CASE WHEN ${deleted} THEN 'deleted' ELSE 'present' END AS state`,
    ...(places ? [`h.${EVENT.file} AS file`, `h.${EVENT.line} AS line`] : []),
  ];
  return (
    `SELECT ${cols.join(', ')} FROM ${readOwnParquet(eventsPath)} h ` +
    `JOIN ${orderState} s ON h.KEY_HASH = s.KEY_HASH AND ${tuple('h', orderNames(t))} = ${tuple('s', orderNames(t))} ` +
    `LEFT JOIN ${base} b ON h.KEY_HASH = b.KEY_HASH ` +
    `WHERE NOT CASE WHEN ${deleted} THEN h.${EVENT.kind} = 'D' ELSE ${sameRow.join(' AND ')} END ` +
    `ORDER BY h.KEY_HASH${places ? `, h.${EVENT.position}` : ''} LIMIT 1`
  );
}

/**
 * Applies the effective events (a relation) to the base state: the newest event upserts its key
 * (I, U or N) or deletes it (D, last known values; nothing if the state never held it); a key
 * with no effective event keeps its row and date (X).
 */
export function changeDiffSql(t: ChangeTable, businessDate: string, p: { effective: string; base: string }): string {
  return diffSql(t, businessDate, {
    upserts: `(SELECT * FROM ${p.effective} WHERE ${EVENT.kind} <> 'D')`,
    base: p.base,
    gone: `LEFT JOIN ${p.effective} e ON b.KEY_HASH = e.KEY_HASH WHERE e.KEY_HASH IS NULL OR e.${EVENT.kind} = 'D'`,
    goneOperation: `CASE WHEN e.KEY_HASH IS NULL THEN 'X' ELSE 'D' END`,
  });
}

/**
 * The new ordering state: the effective events' ordering values (a tombstone dated by the run
 * for a delete), the base's entries of every other key, minus tombstones past retention.
 */
export function nextOrderStateSql(t: ChangeTable, businessDate: string, p: { effective: string; orderState: string; out: string }): string {
  const orders = orderNames(t);
  const retention = t.changes.tombstoneRetentionDays;
  const select =
    `SELECT KEY_HASH, ${orders.join(', ')}, DELETED_ON FROM (` +
    `SELECT e.KEY_HASH, ${orders.map((o) => `e.${o}`).join(', ')}, CASE WHEN e.${EVENT.kind} = 'D' THEN ${dateLiteral(businessDate)} END AS DELETED_ON FROM ${p.effective} e ` +
    `UNION ALL SELECT s.KEY_HASH, ${orders.map((o) => `s.${o}`).join(', ')}, s.DELETED_ON FROM ${p.orderState} s ANTI JOIN ${p.effective} e ON s.KEY_HASH = e.KEY_HASH)` +
    (retention === null ? '' : ` WHERE DELETED_ON IS NULL OR DELETED_ON > ${dateLiteral(businessDate)} - INTERVAL ${retention} DAY`);
  return copyTo(select, p.out);
}

/** Events not newer than what the ordering state holds for their key: ignored, counted as stale. */
export function staleEventsSql(t: ChangeTable, eventsPath: string, orderState: string): string {
  return (
    `SELECT count(*) AS stale FROM ${readOwnParquet(eventsPath)} ev JOIN ${orderState} s ON ev.KEY_HASH = s.KEY_HASH ` +
    `WHERE NOT (${tuple('ev', orderNames(t))} > ${tuple('s', orderNames(t))})`
  );
}

/**
 * SQL for the stages, as pure functions of the table config and file paths, so that each can
 * be unit-tested on its exact text. The diff (diffSql), the state and the history have the same
 * columns, in order:
 *   <key columns> <non-key columns> OPERATION EFF_START_DATE KEY_HASH NONKEY_HASH
 * Only the committed outputs are sorted (by KEY_HASH), which makes their Parquet bytes a
 * function of their content; the hashed batch skips the sort.
 */
import { sourceName } from '../config/columns';
import type { ColumnSpec, Mode, TableConfig } from '../config/types';
import type { Session } from './duckdb';
import { hashExpression } from './hashing';
import { dateLiteral, fileListLiteral, quoteIdent, quoteLiteral } from './sql';
import { duckdbTypeName, type SourceReading, strictCastSql } from './strict-cast';

type TableShape = Pick<TableConfig, 'keys' | 'columns' | 'ignore'>;

function dataColumns(t: Pick<TableShape, 'keys' | 'columns'>): ColumnSpec[] {
  return [...t.keys, ...t.columns];
}

/** Non-key columns that take part in change detection. */
export function comparedColumns(t: TableShape): ColumnSpec[] {
  const ignored = new Set(t.ignore.map((n) => n.toLowerCase()));
  return t.columns.filter((c) => !ignored.has(c.name.toLowerCase()));
}

function list(alias: string, names: readonly string[]): string {
  return names.map((n) => `${alias}.${quoteIdent(n)}`).join(', ');
}

/**
 * Row groups of committed files, in rows: a Parquet writer holds a row group per thread in memory,
 * and DuckDB's default (122,880 rows) made a sorted write of 300,000 rows of the bench's shape
 * run out of memory under limits from 140 to 160 MB on one thread (not under 128 MB). A count
 * of rows, not of bytes, so that the files' bytes do not depend on the memory limit.
 */
const OUTPUT_ROW_GROUP_ROWS = 30_720;

/**
 * Intermediate files are read once, soon: Parquet v2 with zstd level 1 writes them with a third
 * less CPU than v1 with LZ4 (1M bench rows: 1.5 s instead of 2.4 s) at 55% of the size, and reads
 * as fast. Their row groups are bounded in bytes (their bytes need not repeat); committed files'
 * in rows.
 */
export function copyTo(select: string, outPath: string, kind: 'intermediate' | 'output' = 'intermediate'): string {
  const options =
    kind === 'intermediate'
      ? `FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARQUET_VERSION v2, ROW_GROUP_SIZE_BYTES '8MB'`
      : `FORMAT parquet, ROW_GROUP_SIZE ${OUTPUT_ROW_GROUP_ROWS}`;
  return `COPY (${select}) TO ${quoteLiteral(outPath)} (${options})`;
}

/** Reads cdcflow's own Parquet files; their folders look like Hive partitions but are not columns. */
export function readOwnParquet(paths: string | readonly string[]): string {
  const files = typeof paths === 'string' ? quoteLiteral(paths) : fileListLiteral(paths);
  return `read_parquet(${files}, hive_partitioning = false)`;
}

/**
 * The base state the batch is diffed against: the committed state (a relation, e.g. a time-travel
 * read of the catalog), or, for the first run, an empty relation with the same columns
 * (derived from the hashed batch). `keyRange` keeps one key-hash bucket (key-buckets.ts).
 */
export function baseRelationSql(t: TableShape, hashedPath: string, base: string | null, keyRange: string | null = null): string {
  if (base) return `(SELECT * FROM ${base}${keyRange ? ` WHERE ${keyRange}` : ''})`;
  return (
    `(SELECT ${list('h', dataColumns(t).map((c) => c.name))}, CAST(NULL AS VARCHAR) AS OPERATION, ` +
    `CAST(NULL AS DATE) AS EFF_START_DATE, h.KEY_HASH, h.NONKEY_HASH FROM ${readOwnParquet(hashedPath)} h LIMIT 0)`
  );
}

/**
 * A committed state from before `appended` columns were added to the config: those columns as
 * NULL, and the non-key hash taken again over the columns as they are now, so that a row whose
 * new columns arrive NULL compares unchanged (N) and one that brings a value is an update (U).
 */
export function withAppendedColumnsSql(t: TableShape, state: string, appended: readonly ColumnSpec[]): string {
  return `(SELECT * REPLACE (${hashExpression(comparedColumns(t), 's')} AS NONKEY_HASH) FROM ${withNullColumnsSql(state, appended)} s)`;
}

/** `relation` with `columns` it lacks added as NULL (rows committed before the config appended them). */
export function withNullColumnsSql(relation: string, columns: readonly ColumnSpec[]): string {
  const nulls = columns.map((c) => `CAST(NULL AS ${duckdbTypeName(c.type)}) AS ${quoteIdent(c.name)}`).join(', ');
  return `(SELECT *, ${nulls} FROM ${relation})`;
}

/** The configured columns `relation` lacks (committed before the config appended them), asked of DuckDB. */
export async function missingColumns(session: Pick<Session, 'rows'>, t: Pick<TableShape, 'keys' | 'columns'>, relation: string): Promise<ColumnSpec[]> {
  const described = await session.rows<{ column_name: string }>(`DESCRIBE SELECT * FROM ${relation}`);
  const present = new Set(described.map((c) => c.column_name.toLowerCase()));
  return dataColumns(t).filter((c) => !present.has(c.name.toLowerCase()));
}

/** The hashed batch, or its share of one key-hash bucket. */
function batchRelationSql(p: DiffPaths): string {
  return p.keyRange ? `(SELECT * FROM ${readOwnParquet(p.hashed)} WHERE ${p.keyRange})` : readOwnParquet(p.hashed);
}

/**
 * The batch's columns read by their source names, strictly cast to their configured types (see
 * strict-cast.ts) and named as configured. `sourceTypes` maps lower-cased source column names to
 * the source's DuckDB types; absent means text. `reading`: how the source was read (its JSON numbers).
 */
export function typedColumnsSql(t: TableShape, sourceTypes: ReadonlyMap<string, string>, alias: string, reading: SourceReading = {}): string {
  return dataColumns(t)
    .map((c) => {
      const from = sourceName(c);
      return `${strictCastSql(`${alias}.${quoteIdent(from)}`, sourceTypes.get(from.toLowerCase()) ?? 'VARCHAR', c.type, { ...c, ...reading })} AS ${quoteIdent(c.name)}`;
    })
    .join(', ');
}

/** Stage 1: cast to the configured types, add key hash and non-key hash. */
export function hashBatchSql(t: TableShape, readSql: string, outPath: string, sourceTypes: ReadonlyMap<string, string> = new Map(), reading: SourceReading = {}): string {
  const select =
    `WITH typed AS (SELECT ${typedColumnsSql(t, sourceTypes, 's', reading)} FROM ${readSql} s) ` +
    `SELECT ${list('typed', dataColumns(t).map((c) => c.name))}, ` +
    `${hashExpression(t.keys, 'typed')} AS KEY_HASH, ${hashExpression(comparedColumns(t), 'typed')} AS NONKEY_HASH ` +
    `FROM typed`;
  return copyTo(select, outPath);
}

export interface DiffPaths {
  hashed: string;
  /** The committed state of the base date as a relation (see baseRelationSql), or null on the first run. */
  base: string | null;
  /** A condition on KEY_HASH keeping one bucket of keys (key-buckets.ts); absent: all keys. */
  keyRange?: string | null;
}

/** The two sides of a diff and what becomes of base keys the batch brings no values for. */
export interface DiffSides {
  /** Batch rows that bring values for their key (one per key; change records: not deletes), alias h. */
  upserts: string;
  /** The base state (baseRelationSql), alias b. */
  base: string;
  /** What follows `FROM <base> b` to keep the base keys without an upsert, e.g. an anti join. */
  gone: string;
  /** Their OPERATION: D (dated by the run, last known values) or X (row and date kept). */
  goneOperation: string;
}

/**
 * Stages 2-4 in one statement. The upserts left-joined to the base: a key the base lacks is an
 * insert (I); one it holds is an update (U: the batch's values, dated by the run) when the
 * non-key hash differs, else unchanged (N: the base's compared values and date, the batch's
 * ignored columns, so that current is the latest view and a later D carries the last values
 * the source sent). Then the base keys without an upsert, as D or X. Two joins rather than one
 * full outer join: the base's key columns never enter a join's hash table, which keeps the
 * memory a join needs small enough to spill under a tight limit.
 */
export function diffSql(t: TableShape, businessDate: string, sides: DiffSides): string {
  const date = dateLiteral(businessDate);
  const takeNew = 'b.KEY_HASH IS NULL OR h.NONKEY_HASH <> b.NONKEY_HASH';
  const compared = new Set(comparedColumns(t).map((c) => c.name.toLowerCase()));
  const value = (c: ColumnSpec) => (compared.has(c.name.toLowerCase()) ? `CASE WHEN ${takeNew} THEN h.${quoteIdent(c.name)} ELSE b.${quoteIdent(c.name)} END AS ${quoteIdent(c.name)}` : `h.${quoteIdent(c.name)}`);
  const upserted =
    `SELECT ${dataColumns(t).map(value).join(', ')}, CASE WHEN b.KEY_HASH IS NULL THEN 'I' WHEN h.NONKEY_HASH <> b.NONKEY_HASH THEN 'U' ELSE 'N' END AS OPERATION, ` +
    `CASE WHEN ${takeNew} THEN ${date} ELSE b.EFF_START_DATE END AS EFF_START_DATE, h.KEY_HASH, h.NONKEY_HASH ` +
    `FROM ${sides.upserts} h LEFT JOIN ${sides.base} b ON h.KEY_HASH = b.KEY_HASH`;
  const gone =
    `SELECT ${list('b', dataColumns(t).map((c) => c.name))}, ${sides.goneOperation} AS OPERATION, b.EFF_START_DATE, b.KEY_HASH, b.NONKEY_HASH ` +
    `FROM ${sides.base} b ${sides.gone}`;
  const names = dataColumns(t).map((c) => quoteIdent(c.name)).join(', ');
  return (
    `${upserted} UNION ALL SELECT ${names}, OPERATION, CASE WHEN OPERATION = 'D' THEN ${date} ELSE EFF_START_DATE END AS EFF_START_DATE, ` +
    `KEY_HASH, NONKEY_HASH FROM (${gone})`
  );
}

/** The diff of a snapshot: a full one deletes the keys it lacks (D), a delta did not supply them (X). */
export function snapshotDiffSql(t: TableShape, mode: Mode, businessDate: string, p: DiffPaths): string {
  const batch = batchRelationSql(p);
  return diffSql(t, businessDate, {
    upserts: batch,
    base: baseRelationSql(t, p.hashed, p.base, p.keyRange),
    gone: `ANTI JOIN ${batch} h ON b.KEY_HASH = h.KEY_HASH`,
    goneOperation: mode === 'full' ? `'D'` : `'X'`,
  });
}

/** The columns of the committed state, in the catalog tables' order. */
function stateColumns(t: Pick<TableShape, 'keys' | 'columns'>): string {
  return [...dataColumns(t).map((c) => quoteIdent(c.name)), 'OPERATION', 'EFF_START_DATE', 'KEY_HASH', 'NONKEY_HASH'].join(', ');
}

/**
 * A commit's state file, from the diff (diffSql's rows): every row but the deletes, sorted by
 * KEY_HASH so that its bytes are a function of its content. The catalog registers this very
 * file and current.parquet is a link to it: the state is written once.
 */
export function stateFileSql(t: Pick<TableShape, 'keys' | 'columns'>, diff: string, outPath: string): string {
  return copyTo(`SELECT ${stateColumns(t)} FROM ${diff} WHERE OPERATION <> 'D' ORDER BY KEY_HASH`, outPath, 'output');
}

/**
 * A commit's history file, from the diff: its net changes (I, U, D), sorted as the state file is.
 * Without EFF_START_DATE: the catalog takes the date from the file's folder (historyLakeFolder),
 * so the file has the published partition's columns and, with no columns split off, is that partition.
 */
export function historyFileSql(t: Pick<TableShape, 'keys' | 'columns'>, diff: string, outPath: string): string {
  return copyTo(`SELECT ${historyColumns(t)} FROM ${diff} WHERE OPERATION IN ('I', 'U', 'D') ORDER BY KEY_HASH`, outPath, 'output');
}

/** The columns of a history partition: the state's but EFF_START_DATE, which its folder names. */
function historyColumns(t: Pick<TableShape, 'keys' | 'columns'>, select: (c: ColumnSpec) => boolean = () => true): string {
  return [...dataColumns(t).filter(select).map((c) => quoteIdent(c.name)), 'OPERATION', 'KEY_HASH', 'NONKEY_HASH'].join(', ');
}

/**
 * How an export gets its rows in KEY_HASH order: sorted here, or `as-read` from files that are
 * each sorted and listed in bucket order, on an instance that keeps insertion order
 * (Engine.withExportSession).
 */
export type ExportOrder = 'sort' | 'as-read';

/** The ORDER BY of an export, if it sorts. */
export const keyHashOrder = (order: ExportOrder) => (order === 'sort' ? ' ORDER BY KEY_HASH' : '');

/**
 * A state file of `state`'s rows in KEY_HASH order: the published current state, or a bucket's
 * file copied to a remote data path.
 */
export function publishCurrentSql(state: string, outPath: string, select = '*', order: ExportOrder = 'sort'): string {
  return copyTo(`SELECT ${select} FROM ${state}${keyHashOrder(order)}`, outPath, 'output');
}

/**
 * A published history partition from `history`, the net changes (I, U, D) of its date.
 * EFF_START_DATE is the Hive partition (eff_start_date=...), so it is not repeated inside the file.
 */
export function publishHistorySql(t: Pick<TableShape, 'keys' | 'columns'>, history: string, outPath: string, order: ExportOrder = 'sort'): string {
  // Sensitive columns go to their own dataset (warehouse/sensitive.ts).
  return copyTo(`SELECT ${historyColumns(t, (c) => !c.sensitive)} FROM ${history}${keyHashOrder(order)}`, outPath, 'output');
}

/** Rows per OPERATION of a relation. */
export function countByOperationSql(relation: string): string {
  return `SELECT OPERATION AS op, count(*) AS n FROM ${relation} GROUP BY OPERATION ORDER BY OPERATION`;
}

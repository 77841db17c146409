/**
 * SQL for reading a PostgreSQL source in keyset chunks, as pure functions. Two dialects meet
 * here: the text pushed down to PostgreSQL (run there through DuckDB's `postgres_query`, so
 * ordering, comparison and collation are PostgreSQL's own), and the DuckDB statement that casts
 * the rows to the configured types and writes them to Parquet.
 *
 * PostgreSQL quotes identifiers and string literals exactly as DuckDB does (doubled quotes), so
 * the same quoting functions serve both.
 */
import { columnLabel } from '../config/columns';
import type { ColumnSpec, PostgresSourceSpec } from '../config/types';
import { requestedTextSql } from '../engine/key-scope-sql';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import { exactCastCondition, strictCastSql } from '../engine/strict-cast';

/**
 * How a column is pushed down: as PostgreSQL sends it; as PostgreSQL's text of it (a `numeric`,
 * which the postgres extension does not deliver exactly, or an array); an instant as its UTC
 * time; or a `real` as its text, which arrives as the double of that text (see `readPlan`).
 */
export type ReadAs = 'value' | 'text' | 'utc' | 'real';

/** A configured column with its name as the PostgreSQL relation spells it, and how it is read. */
export interface SourceColumn extends ColumnSpec {
  sourceName: string;
  readAs: ReadAs;
  /** The DuckDB type the chunk query delivers it as: what its strict cast starts from. */
  arrivesAs: string;
  /** Text of an SQL_ASCII database, which PostgreSQL sends unconverted: checked to be UTF-8. */
  checkUtf8?: boolean;
}

/**
 * Whether a column the extension describes so may be a PostgreSQL `numeric`. The extension does
 * not deliver one exactly: NaN arrives as 0, an unconstrained or wider than 38 digits one as
 * DOUBLE (rounded to 17 digits), one of negative scale as a DECIMAL of a wrong scale.
 */
export function mayBeNumeric(described: string): boolean {
  return described === 'DOUBLE' || described.startsWith('DECIMAL');
}

/**
 * How to read a column the extension describes as `described`, whose PostgreSQL type is
 * `pgType` (asked only when `mayBeNumeric`, else null), for its configured `type`.
 */
export function readPlan(described: string, pgType: string | null, type: string): Pick<SourceColumn, 'readAs' | 'arrivesAs'> {
  if (pgType === 'numeric') return { readAs: 'text', arrivesAs: 'VARCHAR' };
  // A `real`'s binary value as a double is not the number PostgreSQL shows (1.1 becomes
  // 1.100000023841858); PostgreSQL's text of it is the shortest that reads back as the same real.
  if (described === 'FLOAT') return { readAs: 'real', arrivesAs: 'DOUBLE' };
  // An array's own text (`{a,"b c"}`), not DuckDB's list text (`[a, b c]`): the extension drops
  // an array's bounds (`[0:1]={a,b}`) and refuses one of more dimensions than its column declares.
  if (isArray(described)) return { readAs: 'text', arrivesAs: 'VARCHAR' };
  // PostgreSQL's `timestamptz` into a `timestamp` is documented as its UTC time (files refuse it).
  if (described === 'TIMESTAMP WITH TIME ZONE' && type === 'timestamp') return { readAs: 'utc', arrivesAs: 'TIMESTAMP' };
  return { readAs: 'value', arrivesAs: described };
}

/** Whether the extension describes a column so: a PostgreSQL array. */
function isArray(described: string): boolean {
  return described.endsWith('[]');
}

/**
 * Why a column the extension describes as `described` cannot be read as its configured `type`,
 * or null when it can. An array is read as PostgreSQL's text of it, so only into `varchar`.
 */
export function unreadableAs(described: string, type: string): string | null {
  if (isArray(described) && type !== 'varchar') return `a PostgreSQL array (${described}) is read as PostgreSQL's text of it ({a,b}), so only into varchar, not ${type}`;
  return null;
}

/**
 * The pushed-down expression of a column. A numeric's text is cast from text like a CSV value;
 * without its trailing zeros (`trim_scale`, PostgreSQL 13) unless text is wanted, so that 20.0
 * passes into an integer as a numeric(10,1) 20.0 does.
 */
function pushedDown(c: SourceColumn): string {
  const ref = quoteIdent(c.sourceName);
  if (c.readAs === 'text') return c.type === 'varchar' ? `${ref}::text` : `trim_scale(${ref})::text`;
  if (c.readAs === 'utc') return `(${ref} AT TIME ZONE 'UTC')`;
  if (c.readAs === 'real') return `${ref}::text`;
  return ref;
}

/** DuckDB SQL: the column `v` of a chunk as the type it `arrivesAs` (a real's text becomes its double). */
function arrived(c: SourceColumn, v: string): string {
  return c.readAs === 'real' ? `CAST(${v} AS DOUBLE)` : v;
}

/** PostgreSQL's earliest timestamp, 4714-11-24 00:00:00 BC. */
const POSTGRES_EARLIEST_TIMESTAMP = `'4714-11-24 (BC) 00:00:00'`;

/**
 * DuckDB SQL: true when `v` is a timestamp the extension wrapped around. DuckDB's timestamps end
 * at 294247-01-10, PostgreSQL's at 294276: the extension delivers one between as a time before
 * 290000 BC, which no PostgreSQL timestamp is. Null for other types.
 */
export function wrappedTimestampSql(c: SourceColumn, v: string): string | null {
  if (c.arrivesAs !== 'TIMESTAMP' && c.arrivesAs !== 'TIMESTAMP WITH TIME ZONE') return null;
  return `(isfinite(${v}) AND ${v} < CAST(${POSTGRES_EARLIEST_TIMESTAMP} AS ${c.arrivesAs}))`;
}

/** DuckDB's latest timestamp, named when a later one is refused. */
export const DUCKDB_LATEST_TIMESTAMP = '294247-01-10 04:00:54.775806';

/** DuckDB SQL: true when `v` is text that is not UTF-8 (decode() refuses it; try() makes that a NULL). */
const notUtf8Condition = (v: string) => `(${v} IS NOT NULL AND try(decode(encode(${v}))) IS NULL)`;

/** The start of the query error a chunk's text that is not UTF-8 raises. */
export const NOT_UTF8_MESSAGE = 'text that is not UTF-8 in column';

/**
 * DuckDB SQL: the column `v` as it arrives, or a query error for a timestamp the extension wrapped
 * around or for text to be checked that is not UTF-8 (DuckDB would write it to Parquet as it is,
 * and refuse to read it).
 */
function deliveredSql(c: SourceColumn, v: string): string {
  if (c.checkUtf8) return `CASE WHEN ${notUtf8Condition(v)} THEN error(${quoteLiteral(`${NOT_UTF8_MESSAGE} ${columnLabel(c)}`)}) ELSE ${v} END`;
  const wrapped = wrappedTimestampSql(c, v);
  if (!wrapped) return arrived(c, v);
  const message = quoteLiteral(`a value of column ${columnLabel(c)} is later than ${DUCKDB_LATEST_TIMESTAMP}, the latest timestamp DuckDB holds`);
  return `CASE WHEN ${wrapped} THEN error(${message}) ELSE ${v} END`;
}

/** Pushed-down columns are named by position (`c<i>`; `k<i>` for the keys' text), never by user names. */
const dataAlias = (i: number) => `c${i + 1}`;
export const keyAlias = (i: number) => `k${i + 1}`;

/** What the source reads: the quoted table, or the query as a subquery. */
export function relationSql(source: Pick<PostgresSourceSpec, 'table' | 'query'>): string {
  if (source.table) return `${quoteIdent(source.table.schema)}.${quoteIdent(source.table.name)}`;
  return `(${source.query}) AS source`;
}

/** Which rows a dump reads, whatever the chunk. */
export interface ReadScope {
  /** Delta runs: only rows whose watermark is above this (its PostgreSQL text). */
  since: string | null;
  /** A keys-only dump: only rows with these keys (each key's text per key column). */
  keys?: string[][] | null;
}

/** One chunk's key range, each end as PostgreSQL's text of each key column. */
export interface ChunkBounds extends ReadScope {
  /** The previous chunk's last key (excluded); null for the first chunk. */
  after: string[] | null;
  /** The chunk's last key (included); null for the last chunk, which reads to the end. */
  upTo: string[] | null;
}

/** Rows of the scope within the bounds, in key order. Literals are left untyped: PostgreSQL reads each as its column's type. */
function chunkRange(source: Pick<PostgresSourceSpec, 'table' | 'query' | 'watermark'>, keys: readonly SourceColumn[], bounds: ChunkBounds): string {
  const keyRefs = keys.map((k) => quoteIdent(k.sourceName));
  const keyTuple = (values: string[], which: string) => {
    if (values.length !== keys.length) throw new Error(`${which} of ${values.length} values for ${keys.length} key columns`);
    return `(${values.map(quoteLiteral).join(', ')})`;
  };
  const conditions: string[] = [];
  if (bounds.since !== null && source.watermark) conditions.push(`${quoteIdent(source.watermark)} > ${quoteLiteral(bounds.since)}`);
  if (bounds.keys?.length) {
    if (bounds.keys.some((k) => k.length !== keys.length)) throw new Error(`a requested key of other than ${keys.length} values`);
    conditions.push(`(${keyRefs.join(', ')}) IN (${bounds.keys.map((k) => `(${k.map(quoteLiteral).join(', ')})`).join(', ')})`);
  }
  if (bounds.after) conditions.push(`(${keyRefs.join(', ')}) > ${keyTuple(bounds.after, 'a last key')}`);
  if (bounds.upTo) conditions.push(`(${keyRefs.join(', ')}) <= ${keyTuple(bounds.upTo, 'a chunk end')}`);
  return `FROM ${relationSql(source)}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${keyRefs.join(', ')}`;
}

/**
 * The PostgreSQL text of one chunk: every row of its key range. Rows sharing a key fall in one
 * range, so a duplicate key is seen (and refused) by the hash stage instead of being split
 * across a boundary.
 */
export function chunkQuerySql(
  source: Pick<PostgresSourceSpec, 'table' | 'query' | 'watermark'>,
  columns: readonly SourceColumn[],
  keys: readonly SourceColumn[],
  bounds: ChunkBounds,
): string {
  const select = columns.map((c, i) => `${pushedDown(c)} AS ${dataAlias(i)}`);
  return `SELECT ${select.join(', ')} ${chunkRange(source, keys, bounds)}`;
}

/**
 * DuckDB SQL: the requested keys (text per key column) as the text PostgreSQL is asked for, one
 * row per key in request order (k1, k2, ...): the text of the value cdcflow reads (`05` as `5`),
 * so that PostgreSQL finds the key whose hash the dump computed, whatever its session's time
 * zone. An instant is written with its UTC offset (`2024-01-01 10:00:00+00`); into a PostgreSQL
 * `timestamp` read as a timestamptz, as its local time in the column's timeZone (UTC by default).
 */
export function requestedKeyTextSql(keys: readonly SourceColumn[], values: readonly (readonly string[])[]): string {
  const texts = keys.map((k, i) => `${requestedValueTextSql(k, keyAlias(i))} AS ${keyAlias(i)}`);
  return `SELECT ${texts.join(', ')} FROM ${requestedTextSql({ keys }, values)} ORDER BY key_position`;
}

function requestedValueTextSql(k: SourceColumn, text: string): string {
  if (k.type === 'varchar') return text;
  const typed = `CAST(${text} AS ${k.type.toUpperCase()})`;
  if (k.readAs === 'utc') return `CAST(${typed} AS VARCHAR) || '+00'`;
  if (k.type === 'timestamptz' && k.arrivesAs === 'TIMESTAMP') return `CAST(timezone(${quoteLiteral(k.timeZone ?? 'UTC')}, ${typed}) AS VARCHAR)`;
  return `CAST(${typed} AS VARCHAR)`;
}

/**
 * PostgreSQL: true, having set for the rest of the transaction what a value's text depends on to
 * the settings at which it reads back as the same value: `extra_float_digits` at or below 0
 * rounds a float (0.30000000000000004 is written 0.3), and a `date` or `timestamp` written in
 * DateStyle `German` is read back month first under `German, MDY` (01.07.2024 as January 7).
 */
const EXACT_TEXT_SETTINGS = `set_config('extra_float_digits', '1', true) IS NOT NULL AND set_config('DateStyle', 'ISO', true) IS NOT NULL`;

/**
 * PostgreSQL text: the text of a value that PostgreSQL reads back as the same value, whatever the
 * session's settings (a chunk's last key, the watermark). A `timestamptz`'s own text names the
 * zone by an abbreviation outside DateStyle ISO, which PostgreSQL may read as another zone's
 * (`IST` of Asia/Kolkata or of Europe/Dublin is read as Israel's, 3.5 or 1 hour off): its JSON
 * text is ISO 8601 with a numeric offset. A domain over it too. The settings are made before the
 * text is written, in the CASE condition that PostgreSQL evaluates first.
 */
function readBackTextSql(value: string): string {
  const text = `CASE WHEN ${baseTypeSql(value)} = 'timestamp with time zone' THEN to_json(${value}) #>> '{}' ELSE ${value}::text END`;
  return `CASE WHEN ${EXACT_TEXT_SETTINGS} THEN ${text} END`;
}

/**
 * The PostgreSQL text that ends the chunk after `after`: the keys' text of the `chunkRows`-th
 * row of the scope after it and of the row following that, if any. No second row: the rest of
 * the table fits in this chunk, which is then the last. The keys become text outside the
 * OFFSET, so only for the two rows returned; the outer ORDER BY names the inner columns
 * qualified, as a bare name would sort by the text.
 */
export function chunkEndSql(
  source: Pick<PostgresSourceSpec, 'table' | 'query' | 'chunkRows' | 'watermark'>,
  keys: readonly SourceColumn[],
  scope: ReadScope,
  after: string[] | null,
): string {
  const aliases = keys.map((_, i) => keyAlias(i));
  const inner = keys.map((k, i) => `${quoteIdent(k.sourceName)} AS ${aliases[i]}`);
  const range = chunkRange(source, keys, { ...scope, after, upTo: null });
  return (
    `SELECT ${aliases.map((a) => `${readBackTextSql(`chunk_end.${a}`)} AS ${a}`).join(', ')} ` +
    `FROM (SELECT ${inner.join(', ')} ${range} OFFSET ${source.chunkRows - 1} LIMIT 2) AS chunk_end ORDER BY ${aliases.map((a) => `chunk_end.${a}`).join(', ')}`
  );
}

/** A DuckDB relation running `pgSql` in the attached PostgreSQL database. */
export function postgresQuerySql(attached: string, pgSql: string): string {
  return `postgres_query(${quoteLiteral(attached)}, ${quoteLiteral(pgSql)})`;
}

/**
 * Writes one chunk: the configured columns cast strictly to their types (as a Parquet source's
 * typed columns or a CSV's text are: a value that does not convert exactly is refused), under
 * their configured names. Parquet v2 encodings (delta, byte stream split) cost less CPU to
 * write than v1's and give smaller files; only the hash stage reads them.
 */
export function copyChunkSql(attached: string, pgSql: string, columns: readonly SourceColumn[], outPath: string): string {
  const select = columns.map((c, i) => `${strictCastSql(deliveredSql(c, dataAlias(i)), c.arrivesAs, c.type, c)} AS ${quoteIdent(c.name)}`);
  return `COPY (SELECT ${select.join(', ')} FROM ${postgresQuerySql(attached, pgSql)}) TO ${quoteLiteral(outPath)} (FORMAT parquet, COMPRESSION lz4_raw, PARQUET_VERSION v2)`;
}

/**
 * The first row of a chunk whose value in `column` does not convert exactly to its configured
 * type, with its key (the first columns), its value as it arrived and whether it is a timestamp
 * the extension wrapped around (`wrapped`); null when every value of the column converts.
 */
export function castFailureSql(attached: string, pgSql: string, columns: readonly SourceColumn[], column: number, keyCount: number): string | null {
  const c = dataAlias(column);
  const exact = exactCastCondition(arrived(columns[column], c), columns[column].arrivesAs, columns[column].type, columns[column]);
  const wrapped = wrappedTimestampSql(columns[column], c);
  if (!exact && !wrapped) return null;
  const refused = [wrapped, exact && `NOT (${exact})`].filter(Boolean).join(' OR ');
  const keys = Array.from({ length: keyCount }, (_, i) => `CAST(${dataAlias(i)} AS VARCHAR)`);
  return (
    `SELECT [${keys.join(', ')}] AS key, CAST(${c} AS VARCHAR) AS value, ${wrapped ?? 'false'} AS wrapped FROM ${postgresQuerySql(attached, pgSql)} WITH ORDINALITY ` +
    `WHERE ${c} IS NOT NULL AND (${refused}) ORDER BY ordinality LIMIT 1`
  );
}

/** The key of the first row of a chunk whose column `column` holds text that is not UTF-8; null for a column not checked. */
export function notUtf8Sql(attached: string, pgSql: string, columns: readonly SourceColumn[], column: number, keyCount: number): string | null {
  if (!columns[column].checkUtf8) return null;
  const keys = Array.from({ length: keyCount }, (_, i) => `CAST(${dataAlias(i)} AS VARCHAR)`);
  return `SELECT [${keys.join(', ')}] AS key FROM ${postgresQuerySql(attached, pgSql)} WITH ORDINALITY WHERE ${notUtf8Condition(dataAlias(column))} ORDER BY ordinality LIMIT 1`;
}

/** PostgreSQL text: the session's `extra_float_digits` (`digits`). */
export const EXTRA_FLOAT_DIGITS_SQL = `SELECT current_setting('extra_float_digits') AS digits`;

/** The relation's columns as PostgreSQL names them, with the DuckDB types they arrive as. */
export function describeRelationSql(attached: string, source: Pick<PostgresSourceSpec, 'table' | 'query'>): string {
  return `DESCRIBE SELECT * FROM postgres_query(${quoteLiteral(attached)}, ${quoteLiteral(`SELECT * FROM ${relationSql(source)} LIMIT 0`)})`;
}

/**
 * PostgreSQL text: the type of a value, through any domains to the type they are made from (the
 * extension delivers a domain over `numeric` as DOUBLE, as it does the `numeric` itself).
 */
function baseTypeSql(value: string): string {
  return (
    `(WITH RECURSIVE d(oid, base) AS (SELECT oid, typbasetype FROM pg_type WHERE oid = pg_typeof(${value}) ` +
    'UNION ALL SELECT p.oid, p.typbasetype FROM pg_type p JOIN d ON p.oid = d.base) SELECT format_type(oid, NULL) FROM d WHERE base = 0)'
  );
}

/**
 * PostgreSQL text: the base type of each named column of the relation (`t1`, `t2`, ...), in one
 * row even when the relation is empty (a column of no row still has its type).
 */
export function columnTypesSql(source: Pick<PostgresSourceSpec, 'table' | 'query'>, names: readonly string[]): string {
  const types = names.map((n, i) => `${baseTypeSql(`s.${quoteIdent(n)}`)} AS t${i + 1}`);
  return `SELECT ${types.join(', ')} FROM (SELECT) AS one LEFT JOIN (SELECT * FROM ${relationSql(source)} LIMIT 0) AS s ON true`;
}

/**
 * PostgreSQL text: the tables, views and the like named as `table` is but for case, as config
 * spells them (`names`, comma-separated; NULL when there is none).
 */
export function relationsAlikeSql(table: { schema: string; name: string }): string {
  return (
    `SELECT string_agg(n.nspname || '.' || c.relname, ', ' ORDER BY n.nspname, c.relname) AS names FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ` +
    `WHERE lower(n.nspname) = lower(${quoteLiteral(table.schema)}) AND lower(c.relname) = lower(${quoteLiteral(table.name)}) AND c.relkind IN ('r', 'v', 'm', 'p', 'f')`
  );
}

/**
 * PostgreSQL text: whether every key column of the table is declared NOT NULL (a primary key's
 * are), so that the scan for NULL keys can be skipped. Always false for a query.
 */
export function keysDeclaredNotNullSql(source: Pick<PostgresSourceSpec, 'table'>, keys: readonly SourceColumn[]): string | null {
  if (!source.table) return null;
  const relation = `${quoteIdent(source.table.schema)}.${quoteIdent(source.table.name)}`;
  return (
    `SELECT count(*) AS n FROM pg_attribute WHERE attrelid = ${quoteLiteral(relation)}::regclass ` +
    `AND attnotnull AND attname IN (${keys.map((k) => quoteLiteral(k.sourceName)).join(', ')})`
  );
}

/** PostgreSQL text: the first row with a NULL key column, its keys as text (NULL keys break keyset order). */
export function nullKeySql(source: Pick<PostgresSourceSpec, 'table' | 'query'>, keys: readonly SourceColumn[]): string {
  const refs = keys.map((k) => quoteIdent(k.sourceName));
  return (
    `SELECT ${refs.map((r, i) => `${r}::text AS ${keyAlias(i)}`).join(', ')} FROM ${relationSql(source)} ` +
    `WHERE ${refs.map((r) => `${r} IS NULL`).join(' OR ')} LIMIT 1`
  );
}

/**
 * PostgreSQL text: the bound the next delta reads above, as its text: the watermark column's
 * current maximum, less the lookback (PostgreSQL does the arithmetic in the column's own type).
 */
export function highWatermarkSql(source: Pick<PostgresSourceSpec, 'table' | 'query' | 'watermarkLookback'>, watermark: string): string {
  const lookback = source.watermarkLookback;
  const high = `max(${quoteIdent(watermark)})`;
  const bound = lookback === undefined ? high : `(${high} - ${typeof lookback === 'number' ? String(lookback) : `CAST(${quoteLiteral(lookback)} AS interval)`})`;
  // Made text outside, where the name is qualified: inside readBackTextSql's query of pg_type a bare column name could be one of its own.
  return `SELECT ${readBackTextSql('high.watermark')} AS watermark FROM (SELECT ${bound} AS watermark FROM ${relationSql(source)}) AS high`;
}

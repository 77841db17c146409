/**
 * Strict casts: a value reaches its configured type only when it converts exactly. DuckDB's own
 * casts round (`20.4` → 20, `5.004` → 5.00), drop a UTC offset, roll `24:00:00` into the next day,
 * cut nanoseconds and cut a timestamp to a date; these conditions refuse all of that, in SQL.
 */
import { columnLabel } from '../config/columns';
import type { ColumnSpec } from '../config/types';
import { quoteLiteral } from './sql';

/** DuckDB's name of a configured type, as DESCRIBE reports it. */
export function duckdbTypeName(type: string): string {
  return type === 'timestamptz' ? 'TIMESTAMP WITH TIME ZONE' : type.toUpperCase();
}

/** A UTC offset or zone after a time of day, or hour 24: meaningless in a timestamp without time zone. */
const OFFSET_OR_HOUR_24 = String.raw`[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]*)?)?\s*[A-Za-z+-]|(^|[^0-9])24:`;
const HOUR_24 = String.raw`(^|[^0-9])24:`;
/** A non-zero digit of the seconds beyond microseconds, which DuckDB's timestamps drop. */
const BELOW_MICROSECONDS = String.raw`:[0-9]{2}\.[0-9]{6}0*[1-9]`;

/** Text into a type: the conditions under which DuckDB's cast is exact. */
function exactFromText(v: string, type: string): string {
  const cast = `TRY_CAST(${v} AS ${duckdbTypeName(type)})`;
  const decimal = /^decimal\(\d+,(\d+)\)$/.exec(type);
  if (type === 'integer' || type === 'bigint') return `${cast} IS NOT NULL AND regexp_full_match(${v}, '\\s*[+-]?[0-9]+\\s*')`;
  if (decimal) return `${cast} IS NOT NULL AND regexp_full_match(${v}, '\\s*[+-]?[0-9]*(\\.[0-9]{0,${decimal[1]}}0*)?\\s*')`;
  if (type === 'double') return `${cast} IS NOT NULL AND (NOT isinf(${cast}) OR contains(lower(${v}), 'inf'))`;
  if (type === 'timestamp') return `${cast} IS NOT NULL AND NOT regexp_matches(${v}, ${quoteLiteral(`${OFFSET_OR_HOUR_24}|${BELOW_MICROSECONDS}`)})`;
  if (type === 'timestamptz') return `${cast} IS NOT NULL AND NOT regexp_matches(${v}, ${quoteLiteral(`${HOUR_24}|${BELOW_MICROSECONDS}`)})`;
  if (type === 'date') return `${cast} IS NOT NULL AND NOT regexp_matches(${v}, '[0-9]:[0-9]')`;
  return `${cast} IS NOT NULL`;
}

/**
 * SQL that is true when the non-NULL value `v`, of DuckDB type `sourceType`, converts exactly to
 * the configured `type`; null when any value does (same type, or text wanted).
 */
export function exactCastCondition(v: string, sourceType: string, type: string, format?: string): string | null {
  const target = duckdbTypeName(type);
  if (type === 'varchar' || sourceType === target) return null;
  // The format's specifiers were checked against the type (config/time-format.ts), so a match is exact.
  if (sourceType === 'VARCHAR' && format !== undefined) return `${parsedSql(v, format, 'try_strptime')} IS NOT NULL`;
  if (sourceType === 'VARCHAR') return exactFromText(v, type);
  // An instant has no one wall-clock time: it goes to timestamptz, never to timestamp.
  if (sourceType === 'TIMESTAMP WITH TIME ZONE' && type === 'timestamp') return 'false';
  // Typed sources (Parquet, JSON): exact when the value survives the round trip.
  return `TRY_CAST(${v} AS ${target}) IS NOT NULL AND CAST(TRY_CAST(${v} AS ${target}) AS ${sourceType}) = ${v}`;
}

/** DuckDB's names of nested types: STRUCT(...), MAP(...), UNION(...), lists (`T[]`) and arrays (`T[3]`). */
const NESTED_TYPE = /^(STRUCT|MAP|UNION)\(|\[\d*\]$/;

/**
 * The text of a value of `sourceType`. A JSON string is its own text, not its quoted JSON form: a
 * JSON column DuckDB types as JSON (its values mix strings with numbers or objects) would store
 * `"abc"` one day and `abc` the next. Nested values become JSON text (minified), which keeps every
 * element apart, where DuckDB's display form does not (`[a, b c]`).
 */
function textSql(v: string, sourceType: string): string {
  if (sourceType === 'JSON') return `CASE WHEN json_type(${v}) = 'VARCHAR' THEN json_extract_string(${v}, '$') ELSE CAST(json(${v}) AS VARCHAR) END`;
  if (NESTED_TYPE.test(sourceType)) return `CAST(to_json(${v}) AS VARCHAR)`;
  return `CAST(${v} AS VARCHAR)`;
}

/** Text in a column's own format, parsed (`strptime` fails on a mismatch, `try_strptime` gives NULL). */
function parsedSql(v: string, format: string, parse: 'strptime' | 'try_strptime'): string {
  return `${parse}(${v}, ${quoteLiteral(format)})`;
}

/**
 * The strict cast of `v` to `type`: the value, or a query error naming the column. Text is read in
 * the column's `format` when it has one; typed values (Parquet, JSON dates) need none.
 */
export function strictCastSql(v: string, sourceType: string, type: string, column: Pick<ColumnSpec, 'name' | 'source' | 'format'>): string {
  if (type === 'varchar') return textSql(v, sourceType);
  const { format } = column;
  const parsed = sourceType === 'VARCHAR' && format !== undefined ? parsedSql(v, format, 'strptime') : v;
  const cast = `CAST(${parsed} AS ${duckdbTypeName(type)})`;
  const exact = exactCastCondition(v, sourceType, type, format);
  if (!exact) return cast;
  const message = quoteLiteral(`a value of column ${columnLabel(column)} does not convert exactly to ${type}`);
  return `CASE WHEN ${v} IS NULL OR (${exact}) THEN ${cast} ELSE error(${message}) END`;
}

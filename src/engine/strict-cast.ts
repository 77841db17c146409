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

/** A UTC offset or zone after a time of day. */
const OFFSET = String.raw`[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]*)?)?\s*[A-Za-z+-]`;
/** 24 as the hour: not after a digit, nor after a colon (minute 24, as in `10:24:00`, is fine). */
const HOUR_24 = String.raw`(^|[^0-9:])24:`;
/** An offset or hour 24: meaningless in a timestamp without time zone. */
const OFFSET_OR_HOUR_24 = `${OFFSET}|${HOUR_24}`;
/** After a time of day, the zone text that ends the value: captured as group 3. */
const ZONE_AT_END = String.raw`[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]*)?)?\s*(\S+)\s*$`;
/** A zone written as letters (and signs or digits) with no `/`: an abbreviation such as BST or CST, or UTC+2. */
const ZONE_LETTERS = String.raw`^[A-Za-z][A-Za-z0-9+-]*$`;
/** Zone names that name one offset: UTC. */
const ZONE_UTC = String.raw`^(?i)(z|utc|gmt)$`;
/** A numeric offset beyond PostgreSQL's range (±15:59:59), or with minutes or seconds of 60 or more. */
const OFFSET_OUT_OF_RANGE = String.raw`^[+-](1[6-9]|[2-9][0-9]|[0-9]{2}:?[6-9][0-9]|[0-9]{2}:?[0-9]{2}:?[6-9][0-9])`;
/** A non-zero digit of the seconds beyond microseconds, which DuckDB's timestamps drop. */
const BELOW_MICROSECONDS = String.raw`:[0-9]{2}\.[0-9]{6}0*[1-9]`;

/** Text into a type: the conditions under which DuckDB's cast is exact. */
function exactFromText(v: string, type: string): string {
  const cast = `TRY_CAST(${v} AS ${duckdbTypeName(type)})`;
  const decimal = /^decimal\(\d+,(\d+)\)$/.exec(type);
  if (type === 'integer' || type === 'bigint') return `${cast} IS NOT NULL AND regexp_full_match(${v}, '\\s*[+-]?[0-9]+\\s*')`;
  if (decimal) return `${cast} IS NOT NULL AND regexp_full_match(${v}, '\\s*[+-]?[0-9]*(\\.[0-9]{0,${decimal[1]}}0*)?\\s*')`;
  // Out of range either way: beyond the greatest double (read as infinity), or a non-zero digit
  // before any exponent read as 0 (below the least, 1e-400), which would compare equal to 0.
  if (type === 'double') return `${cast} IS NOT NULL AND (NOT isinf(${cast}) OR contains(lower(${v}), 'inf')) AND NOT (${cast} = 0 AND regexp_matches(${v}, '^[^eE]*[1-9]'))`;
  if (type === 'timestamp') return `${cast} IS NOT NULL AND NOT regexp_matches(${v}, ${quoteLiteral(`${OFFSET_OR_HOUR_24}|${BELOW_MICROSECONDS}`)})`;
  if (type === 'timestamptz') return `${cast} IS NOT NULL AND NOT regexp_matches(${v}, ${quoteLiteral(`${HOUR_24}|${BELOW_MICROSECONDS}`)})`;
  if (type === 'date') return `${cast} IS NOT NULL AND NOT regexp_matches(${v}, '[0-9]:[0-9]')`;
  return `${cast} IS NOT NULL`;
}

/**
 * Zone text that DuckDB reads as some instant the text does not say, for timestamptz text: an
 * abbreviation ICU takes for a zone of its own (BST is Asia/Dhaka, CST America/Chicago, PST in
 * July is PDT), and offsets no zone has (+99, +05:99), which DuckDB takes as so many hours.
 */
function textZoneChecks(v: string): ExactCastCheck[] {
  const zone = `regexp_extract(${v}, ${quoteLiteral(ZONE_AT_END)}, 3)`;
  const abbreviation = `regexp_matches(${zone}, ${quoteLiteral(ZONE_LETTERS)}) AND NOT regexp_matches(${zone}, ${quoteLiteral(ZONE_UTC)})`;
  return [
    { condition: `NOT (${abbreviation})`, hint: ' (a zone abbreviation, which names no one offset (BST is British Summer Time and Bangladesh Standard Time): write the offset, such as +01:00, or an IANA name, such as Europe/London)' },
    { condition: `NOT regexp_matches(${zone}, ${quoteLiteral(OFFSET_OUT_OF_RANGE)})`, hint: ' (a UTC offset out of range: at most ±15:59, minutes and seconds below 60)' },
  ];
}

/** Whether text in `format` (ISO 8601 without one) may end with a zone after its time of day. */
function zoneEndsText(format: string | undefined): boolean {
  return format === undefined || /%[zZ]$/.test(format);
}

/** How all of a source's values were read: `jsonNumbers` when its DOUBLEs are JSON numbers, which DuckDB's reader rounds to a double. */
export interface SourceReading {
  jsonNumbers?: boolean;
}

/** How a column's values are read besides their type: text's `format`, a timestamptz's `timeZone`, and the source's reading. */
export type ColumnReading = Pick<ColumnSpec, 'format' | 'timeZone'> & SourceReading;

/** A condition a value must meet, and what its refusal adds to the error ('' for nothing). */
export interface ExactCastCheck {
  condition: string;
  hint: string;
}

/** The way out for a JSON number that a double does not hold. */
const asJsonString = (example: string) => `send it as a JSON string${example}, which is read as text and cast exactly`;

/**
 * SQL that is true when the finite DOUBLE `v`, a JSON number as DuckDB's JSON reader rounded it,
 * may not be the number written, for a column of `type`; null when a double is what it wants.
 * Any decimal text of up to 15 significant digits survives a double exactly, so a double whose
 * shortest text has up to 15 is taken as that number (one written with more digits that rounds to
 * it cannot be told from it); with 16 or more it may not be the number written.
 */
export function roundedJsonNumberSql(v: string, type: string): string | null {
  if (type === 'double') return null;
  const digits = `trim(regexp_replace(split_part(CAST(${v} AS VARCHAR), 'e', 1), '[^0-9]', '', 'g'), '0')`;
  return `length(${digits}) > 15`;
}

/**
 * A JSON number DuckDB's reader typed DOUBLE (one with a fraction or exponent, or a whole number
 * beyond 64 bits) was rounded before the cast sees it: taken only when it is surely the number
 * written (roundedJsonNumberSql). JSON has no infinity: an infinite double is a number beyond a
 * double's range. None when the value is no JSON double.
 */
function jsonNumberChecks(v: string, sourceType: string, type: string, reading: ColumnReading): ExactCastCheck[] {
  if (!reading.jsonNumbers || sourceType !== 'DOUBLE') return [];
  const beyond = "a JSON number beyond a double's range, read as infinity";
  const rounded = roundedJsonNumberSql(v, type);
  // A double column cannot hold the number at all; any other may, from text.
  if (!rounded) return [{ condition: `NOT isinf(${v})`, hint: ` (${beyond})` }];
  const hint = ` (a JSON number, read as a double, which holds 15 significant digits exactly, and this one has more: ${asJsonString(' ("1234567890.123456789")')})`;
  return [{ condition: `NOT isinf(${v})`, hint: ` (${beyond}: ${asJsonString('')})` }, { condition: `NOT (${rounded})`, hint }];
}

/**
 * The conditions under which the non-NULL value `v`, of DuckDB type `sourceType`, converts exactly
 * to the configured `type`, a JSON number's first (their refusals have hints); none when any value does.
 */
export function exactCastChecks(v: string, sourceType: string, type: string, reading: ColumnReading = {}): ExactCastCheck[] {
  const exact = exactConversion(v, sourceType, type, reading);
  const zoneChecks = sourceType === 'VARCHAR' && type === 'timestamptz' && zoneEndsText(reading.format) ? textZoneChecks(v) : [];
  return [...jsonNumberChecks(v, sourceType, type, reading), ...(exact ? [{ condition: exact, hint: '' }] : []), ...zoneChecks];
}

/**
 * SQL that is true when the non-NULL value `v`, of DuckDB type `sourceType`, converts exactly to
 * the configured `type`; null when any value does (same type, or text wanted).
 */
export function exactCastCondition(v: string, sourceType: string, type: string, reading: ColumnReading = {}): string | null {
  const conditions = exactCastChecks(v, sourceType, type, reading).map((c) => c.condition);
  if (conditions.length <= 1) return conditions[0] ?? null;
  return conditions.map((c) => `(${c})`).join(' AND ');
}

/** exactCastCondition but for the rounding of JSON numbers. */
function exactConversion(v: string, sourceType: string, type: string, reading: ColumnReading): string | null {
  const exact = exactIgnoringZone(v, sourceType, type, reading.format);
  const zone = zoneOf(sourceType, type, reading);
  const wallClock = zone === undefined ? null : wallClockSql(v, sourceType, reading.format, 'try_strptime');
  if (!exact || zone === undefined || !wallClock) return exact;
  // A wall-clock time in the spring-forward gap never happened there: ICU moves it an hour on,
  // so the instant's own wall-clock time differs from it.
  const z = quoteLiteral(zone);
  return `${exact} AND (${wallClock} IS NULL OR timezone(${z}, timezone(${z}, ${wallClock})) = ${wallClock})`;
}

/** exactCastCondition for values taken as they are, whatever the column's time zone. */
function exactIgnoringZone(v: string, sourceType: string, type: string, format: string | undefined): string | null {
  const target = duckdbTypeName(type);
  if (type === 'varchar' || sourceType === target) return null;
  // The format's specifiers were checked against the type (config/time-format.ts), so a match is exact.
  if (sourceType === 'VARCHAR' && format !== undefined) return `${parsedSql(v, format, 'try_strptime')} IS NOT NULL`;
  if (sourceType === 'VARCHAR') return exactFromText(v, type);
  // An instant has no one wall-clock time: it goes to timestamptz, never to timestamp.
  if (sourceType === 'TIMESTAMP WITH TIME ZONE' && type === 'timestamp') return 'false';
  // Typed sources (Parquet, JSON): exact when the value survives the round trip. The way back is
  // tried too: a value rounded on the way may not fit back (the BIGINT 2^63-1 becomes the DOUBLE
  // 2^63, above BIGINT's range), and CAST would fail the query there instead of refusing the value.
  return `TRY_CAST(TRY_CAST(${v} AS ${target}) AS ${sourceType}) IS NOT DISTINCT FROM ${v}`;
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

/** The time zone values of `sourceType` are read in: a timestamptz column's `timeZone`, unless they are instants. */
function zoneOf(sourceType: string, type: string, reading: ColumnReading): string | undefined {
  return type === 'timestamptz' && sourceType !== 'TIMESTAMP WITH TIME ZONE' ? reading.timeZone : undefined;
}

/**
 * The wall-clock time (a TIMESTAMP) that `v` holds when it names no instant, NULL for text that
 * does (it has an offset); null when no value does (a format with %z/%Z).
 */
function wallClockSql(v: string, sourceType: string, format: string | undefined, parse: 'strptime' | 'try_strptime'): string | null {
  const cast = parse === 'strptime' ? 'CAST' : 'TRY_CAST';
  if (sourceType !== 'VARCHAR') return `${cast}(${v} AS TIMESTAMP)`;
  if (format !== undefined) return /%[zZ]/.test(format) ? null : parsedSql(v, format, parse);
  return `CASE WHEN NOT regexp_matches(${v}, ${quoteLiteral(OFFSET)}) THEN ${cast}(${v} AS TIMESTAMP) END`;
}

/** The cast of a value known to convert exactly; a wall-clock time is taken in the column's time zone. */
function castSql(v: string, sourceType: string, type: string, reading: ColumnReading): string {
  const { format } = reading;
  const parsed = sourceType === 'VARCHAR' && format !== undefined ? parsedSql(v, format, 'strptime') : v;
  const cast = `CAST(${parsed} AS ${duckdbTypeName(type)})`;
  // Text without an offset is converted in its zone explicitly, UTC by default: DuckDB's cast of
  // such text takes the zone of a value before it in the vector that named one (`… BST`).
  const zone = zoneOf(sourceType, type, reading) ?? (sourceType === 'VARCHAR' && type === 'timestamptz' ? 'UTC' : undefined);
  const wallClock = zone === undefined ? null : wallClockSql(v, sourceType, format, 'strptime');
  if (zone === undefined || !wallClock) return cast;
  // A wall-clock time is NULL only for text with an offset, which the plain cast keeps.
  return `coalesce(timezone(${quoteLiteral(zone)}, ${wallClock}), ${cast})`;
}

/**
 * The strict cast of `v` to `type`: the value, or a query error naming the column. Text is read in
 * the column's `format` when it has one; typed values (Parquet, JSON dates) need none.
 */
export function strictCastSql(v: string, sourceType: string, type: string, column: Pick<ColumnSpec, 'name' | 'source'> & ColumnReading): string {
  const cast = type === 'varchar' ? textSql(v, sourceType) : castSql(v, sourceType, type, column);
  const exact = exactCastCondition(v, sourceType, type, column);
  if (!exact) return cast;
  const message = quoteLiteral(`a value of column ${columnLabel(column)} does not convert exactly to ${type}`);
  return `CASE WHEN ${v} IS NULL OR (${exact}) THEN ${cast} ELSE error(${message}) END`;
}

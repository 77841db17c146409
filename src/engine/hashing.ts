/**
 * The canonical encoding that key and non-key hashes are computed over. It is part of the
 * stored data's contract: changing it changes every hash, so it is versioned.
 *
 *   value   := 'N'                          for NULL
 *            | 'V' <byte length> ':' <text>  otherwise
 *   encoding := value value ...             in config column order, no separator
 *   hash     := md5(encoding) as UUID       (128 bits, standard MD5, stable across DuckDB versions)
 *
 * The length prefix makes ('a','bc') and ('ab','c') encode differently, and the NULL marker
 * keeps NULL apart from the text 'NULL'. Typed values become text in a pinned form rather than
 * DuckDB's default casts, whose output for DOUBLE and TIMESTAMP has changed between versions.
 */
import type { ColumnSpec } from '../config/types';
import { quoteIdent } from './sql';

export const HASH_ENCODING_VERSION = 1;

/** SQL turning a typed column into its canonical text (NULL stays NULL). */
export function canonicalText(column: string, type: string): string {
  const c = column;
  if (type === 'varchar') return c;
  // -0 and 0, and NaNs of either sign (x86 computes 0/0 as -NaN), are equal values: one text each.
  if (type === 'double') return `CASE WHEN ${c} = 0 THEN '0' WHEN isnan(${c}) THEN 'nan' ELSE printf('%.17g', ${c}) END`;
  if (type === 'boolean') return `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END`;
  if (type === 'date') return `strftime(${c}, '%Y-%m-%d')`;
  if (type === 'timestamp') return `strftime(${c}, '%Y-%m-%d %H:%M:%S.%f')`;
  // The instant in UTC, whatever the session's time zone.
  if (type === 'timestamptz') return `strftime(timezone('UTC', ${c}), '%Y-%m-%d %H:%M:%S.%f') || '+00'`;
  // integer, bigint and decimal(p,s): plain digits, fixed scale for decimals.
  return `CAST(${c} AS VARCHAR)`;
}

/**
 * One value's encoding as arguments of a single concat(): 'N' for NULL, else 'V', the byte
 * length, ':' and the text (concat skips NULL arguments, and the canonical text is NULL only for
 * a NULL value). One concat of every argument builds the encoding once, where chained `||`
 * copied the growing prefix at each step.
 */
function encodeValueArgs(column: ColumnSpec, tableAlias?: string): string {
  const ref = tableAlias ? `${tableAlias}.${quoteIdent(column.name)}` : quoteIdent(column.name);
  const text = canonicalText(ref, column.type);
  return `CASE WHEN ${ref} IS NULL THEN 'N' ELSE 'V' END, strlen(${text}), CASE WHEN ${ref} IS NOT NULL THEN ':' END, ${text}`;
}

/** SQL for the UUID-typed hash of the given columns (md5 of the empty string when none). */
export function hashExpression(columns: readonly ColumnSpec[], tableAlias?: string): string {
  if (columns.length === 0) return `CAST(md5('') AS UUID)`;
  return `CAST(md5(concat(${columns.map((c) => encodeValueArgs(c, tableAlias)).join(', ')})) AS UUID)`;
}

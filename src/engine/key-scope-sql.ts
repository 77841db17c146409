/**
 * SQL for a keys-only dump, as pure functions: the requested keys typed and hashed as the hash
 * stage hashes keys, the committed state without them, and the requested keys found nowhere.
 */
import type { ColumnSpec, TableConfig } from '../config/types';
import { hashExpression } from './hashing';
import { quoteIdent, quoteLiteral } from './sql';
import { exactCastCondition } from './strict-cast';
import { readOwnParquet } from './stage-sql';

type KeyShape = Pick<TableConfig, 'keys'>;

const rawAlias = (i: number) => `k${i + 1}`;

/** The requested keys as text (k1, k2, ...), one row each, numbered in request order (key_position). */
export function requestedTextSql(t: { keys: readonly unknown[] }, values: readonly (readonly string[])[]): string {
  const rows = values.map((v, i) => `(${[String(i + 1), ...v.map(quoteLiteral)].join(', ')})`).join(', ');
  return `(SELECT * FROM (VALUES ${rows}) AS requested(key_position, ${t.keys.map((_, i) => rawAlias(i)).join(', ')}))`;
}

/** A requested key's readable name, `(id=5, region=eu)`, from its text. */
function keyNameSql(keys: readonly ColumnSpec[]): string {
  return `'(' || concat_ws(', ', ${keys.map((k, i) => `${quoteLiteral(`${k.name}=`)} || ${rawAlias(i)}`).join(', ')}) || ')'`;
}

/**
 * The first requested key value that does not convert exactly to its column's type (as a
 * source value must: `1.5` is not an integer): key_name, column_name, value. Null when every
 * key column is text.
 */
export function uncastKeySql(t: KeyShape, values: readonly (readonly string[])[]): string | null {
  const failing = t.keys.flatMap((k, i) => {
    const exact = exactCastCondition(rawAlias(i), 'VARCHAR', k.type);
    return exact ? [{ when: `WHEN NOT (${exact})`, column: quoteLiteral(k.name), value: rawAlias(i) }] : [];
  });
  if (!failing.length) return null;
  const column = `CASE ${failing.map((f) => `${f.when} THEN ${f.column}`).join(' ')} END`;
  const value = `CASE ${failing.map((f) => `${f.when} THEN ${f.value}`).join(' ')} END`;
  return `SELECT ${keyNameSql(t.keys)} AS key_name, ${column} AS column_name, ${value} AS value FROM ${requestedTextSql(t, values)} WHERE ${column} IS NOT NULL LIMIT 1`;
}

/** The requested keys with their position in the request, readable name and KEY_HASH (as the hash stage computes it). */
export function requestedKeysSql(t: KeyShape, values: readonly (readonly string[])[]): string {
  const typed = t.keys.map((k, i) => `CAST(${rawAlias(i)} AS ${k.type.toUpperCase()}) AS ${quoteIdent(k.name)}`);
  return (
    `(SELECT key_position, key_name, ${hashExpression(t.keys, 'typed')} AS KEY_HASH FROM ` +
    `(SELECT key_position, ${keyNameSql(t.keys)} AS key_name, ${typed.join(', ')} FROM ${requestedTextSql(t, values)}) typed)`
  );
}

/** The committed state's data columns (`state`: a relation of it), all keys but the requested ones (those come from the source). */
export function stateWithoutKeysSql(t: Pick<TableConfig, 'keys' | 'columns'>, state: string, requested: string, outPath: string): string {
  const columns = [...t.keys, ...t.columns].map((c) => `s.${quoteIdent(c.name)}`).join(', ');
  return (
    `COPY (SELECT ${columns} FROM ${state} s WHERE s.KEY_HASH NOT IN (SELECT KEY_HASH FROM ${requested})) ` +
    `TO ${quoteLiteral(outPath)} (FORMAT parquet, COMPRESSION lz4_raw)`
  );
}

/**
 * Names of the first `shown` requested keys in neither the source's chunks nor the committed
 * state, in request order, each row with how many there are in all (missing).
 */
export function missingKeysSql(t: KeyShape, requested: string, chunkFiles: readonly string[], currentPath: string | null, shown: number): string {
  const sources = [
    ...(chunkFiles.length ? [`SELECT ${hashExpression(t.keys, 'c')} AS KEY_HASH FROM ${readOwnParquet(chunkFiles)} c`] : []),
    ...(currentPath ? [`SELECT KEY_HASH FROM ${readOwnParquet(currentPath)}`] : []),
  ];
  const found = sources.length ? ` WHERE r.KEY_HASH NOT IN (${sources.join(' UNION ALL ')})` : '';
  return `SELECT r.key_name, count(*) OVER () AS missing FROM ${requested} r${found} ORDER BY r.key_position LIMIT ${shown}`;
}

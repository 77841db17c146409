/**
 * PostgreSQL tables and queries, read through DuckDB's postgres extension. The extract stage
 * copies the batch out in keyset chunks (ordered by the configured key, each chunk written
 * straight to a Parquet file, no table locks), checkpointing every chunk in a manifest so that
 * a retried attempt of the same run resumes at the next chunk. The hash stage then reads the
 * chunk files like a Parquet source.
 */
import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { columnLabel, readByName, sourceName } from '../config/columns';
import { DEFAULT_CSV_OPTIONS } from '../config/schema';
import type { ColumnSpec, FileTableConfig, PostgresSourceSpec, TableConfig } from '../config/types';
import { copyRows, type Session } from '../engine/duckdb';
import { fileListLiteral, quoteIdent } from '../engine/sql';
import { withPostgresAttached } from '../engine/postgres-attach';
import { ConfigError, DataError, type ErrorContext, StateError } from '../errors';
import { readJsonIfExists, writeAtomically, writeJsonAtomically } from '../warehouse/atomic';
import { tableLayout } from '../warehouse/layout';
import { castFailureMessage, valueContext } from '../warehouse/sensitive';
import { missingColumnsError } from './check-columns';
import { describeSourceFiles } from './file-source';
import {
  castFailureSql,
  type ChunkBounds,
  chunkEndSql,
  chunkQuerySql,
  columnTypesSql,
  copyChunkSql,
  describeRelationSql,
  DUCKDB_LATEST_TIMESTAMP,
  EXTRA_FLOAT_DIGITS_SQL,
  highWatermarkSql,
  keyAlias,
  keysDeclaredNotNullSql,
  mayBeNumeric,
  NOT_UTF8_MESSAGE,
  notUtf8Sql,
  nullKeySql,
  postgresQuerySql,
  type ReadScope,
  readPlan,
  relationsAlikeSql,
  requestedKeyTextSql,
  type SourceColumn,
  unreadableAs,
} from './postgres-sql';
import { runOnLanes } from './ordered-lanes';
import type { ChunkCheckpoint, ExtractRequest, ExtractResult, Source, SourceBatch } from './source';

type PostgresTable = TableConfig<PostgresSourceSpec>;

/** A keys-only dump's state chunk as its manifest records it: the file and the rows written to it. */
interface StateChunkRecord {
  /** Its name in the extract's folder. */
  file: string;
  rows: number;
}

/** What is on disk for an extract in progress or done; written after every chunk. */
interface ExtractManifest {
  fingerprint: string;
  /** Taken before the first chunk and kept across attempts (see `extract`). */
  watermark: string | null;
  chunks: ChunkCheckpoint[];
  complete: boolean;
  /** A keys-only dump: its batch is not whole without its state chunk recorded. */
  keysOnly: boolean;
  /**
   * A keys-only dump's state chunk once written (see `recordStateChunk`); null when nothing was
   * committed, so there is none.
   */
  stateChunk?: StateChunkRecord | null;
}

/** TIMESTAMPTZ becomes a UTC timestamp whatever the worker's time zone. */
const UTC_SQL = `SET SESSION TimeZone = 'UTC'`;

/** DuckDB errors that mean a value does not fit its configured type. */
const CAST_ERROR = /^(Conversion|Invalid Input|Out of Range) Error/;

export function extractFolder(table: TableConfig, businessDate: string): string {
  return path.join(tableLayout(table.warehouse, table.dataset, table.name).workDir(businessDate), 'extract');
}

const manifestPath = (folder: string) => path.join(folder, 'manifest.json');
export const chunkFile = (folder: string, chunk: number) => path.join(folder, `chunk-${String(chunk).padStart(6, '0')}.parquet`);
/** A keys-only dump's other keys as committed, written beside the chunks (activities/key-scope.ts). */
export const stateChunkFile = (folder: string) => path.join(folder, 'chunk-state.parquet');
const CHUNK_FILE = /^chunk-(\d+)\.parquet$/;

/** A batch file as its manifest records it: where it is, how many rows, what to call it. */
interface BatchFileRecord {
  path: string;
  rows: number;
  name: string;
}

/** The recorded chunks' files, in chunk order. */
function chunkRecords(folder: string, chunks: readonly ChunkCheckpoint[]): BatchFileRecord[] {
  return chunks.map((c) => ({ path: chunkFile(folder, c.chunk), rows: c.rows, name: `chunk ${c.chunk}` }));
}

/** Every file the manifest lists for the batch: the chunks, then a keys-only dump's state chunk. */
function batchRecords(folder: string, manifest: ExtractManifest): BatchFileRecord[] {
  const state = manifest.stateChunk
    ? [{ path: path.join(folder, manifest.stateChunk.file), rows: manifest.stateChunk.rows, name: 'the state chunk' }]
    : [];
  return [...chunkRecords(folder, manifest.chunks), ...state];
}

/**
 * Where the files on disk first differ from their records: the index of the first one whose
 * file is missing or holds another number of rows than recorded (removed by hand or by a
 * vacuum, replaced), with what was found; undefined when every listed file is intact.
 */
async function firstDamagedFile(session: Session, folder: string, records: readonly BatchFileRecord[]): Promise<{ index: number; rows: number | null } | undefined> {
  const names = new Set(await readdir(folder));
  const present = records.map((r) => r.path).filter((f) => names.has(path.basename(f)));
  const rows = new Map<string, number>();
  if (present.length > 0) {
    const counted = await session.rows<{ file_name: string; num_rows: string | number }>(`SELECT file_name, num_rows FROM parquet_file_metadata(${fileListLiteral(present)})`);
    for (const r of counted) rows.set(r.file_name, Number(r.num_rows));
  }
  const index = records.findIndex((r) => rows.get(r.path) !== r.rows);
  return index < 0 ? undefined : { index, rows: rows.get(records[index].path) ?? null };
}

/** Chunk files past the checkpointed ones: read beside a chunk that was not finished. */
async function removeChunksAfter(folder: string, chunks: number): Promise<void> {
  const stray = (await readdir(folder)).filter((f) => Number(CHUNK_FILE.exec(f)?.[1] ?? 0) > chunks);
  await Promise.all(stray.map((f) => rm(path.join(folder, f))));
}

function describeSourceName(source: PostgresSourceSpec): string {
  return source.table ? `${source.table.schema}.${source.table.name}` : 'query';
}

/** The source database, attached read-only for `fn`. */
function withAttached<T>(session: Session, table: PostgresTable, fn: (attached: string, text: { unconverted: boolean }) => Promise<T>): Promise<T> {
  return withPostgresAttached(session, table.source.connection, { dataset: table.dataset, table: table.name }, { readOnly: true }, fn);
}

/**
 * `query`, with PostgreSQL refusing to prepare it (a relation or column that does not exist, a
 * literal that is not of its column's type) turned into a ConfigError: no retry changes that.
 */
async function refusedAsConfig<T>(query: Promise<T>, what: string, context: ErrorContext): Promise<T> {
  try {
    return await query;
  } catch (err) {
    const message = (err as Error).message;
    if (/Failed to prepare query/.test(message)) throw new ConfigError(`${what}: ${message.split('\n')[0]}`, context);
    throw err;
  }
}

/**
 * The configured columns with their names as the relation spells them (matched
 * case-insensitively, exact first) and how each is read (see `readPlan`); `unconverted`: text of
 * an SQL_ASCII database, checked to be UTF-8.
 */
async function sourceColumns(session: Session, attached: string, table: PostgresTable, unconverted: boolean): Promise<{ keys: SourceColumn[]; columns: SourceColumn[] }> {
  const context = { dataset: table.dataset, table: table.name, source: describeSourceName(table.source) };
  const described = await describeRelation(session, attached, table, context);
  const names = described.map((d) => d.column_name);
  const missing: ColumnSpec[] = [];
  const found = [...table.keys, ...table.columns].map((c) => {
    const wanted = sourceName(c);
    const at = [names.indexOf(wanted), names.findIndex((n) => n.toLowerCase() === wanted.toLowerCase())].find((i) => i >= 0);
    if (at === undefined) missing.push(c);
    return { spec: c, sourceName: at === undefined ? wanted : names[at], described: at === undefined ? 'VARCHAR' : described[at].column_type };
  });
  if (missing.length > 0) throw missingColumnsError(missing, context);
  const pgTypes = await numericTypes(session, attached, table, found.filter((f) => mayBeNumeric(f.described)).map((f) => f.sourceName));
  const columns: SourceColumn[] = found.map(({ spec, sourceName, described: d }) => {
    const plan = readPlan(d, pgTypes.get(sourceName) ?? null, spec.type);
    return { ...spec, sourceName, ...plan, checkUtf8: unconverted && plan.arrivesAs === 'VARCHAR' };
  });
  for (const { spec, described: d } of found) {
    const reason = unreadableAs(d, spec.type);
    if (reason) throw new ConfigError(`column ${columnLabel(spec)}: ${reason}`, { ...context, column: spec.name });
  }
  if (columns.some((c) => c.readAs === 'real')) await assertShortestFloatText(session, attached, context);
  return { keys: columns.slice(0, table.keys.length), columns };
}

/**
 * The relation's columns as the extension describes them. PostgreSQL refusing the relation
 * itself (no such table or column, a bad query) is not transient, and neither are two of its
 * columns named alike but for case, which DuckDB (case-insensitive) refuses to read at all.
 */
async function describeRelation(session: Session, attached: string, table: PostgresTable, context: ErrorContext): Promise<{ column_name: string; column_type: string }[]> {
  try {
    return await refusedAsConfig(session.rows(describeRelationSql(attached, table.source)), 'cannot read the PostgreSQL source', context);
  } catch (err) {
    const duplicate = /duplicate column name "([^"]*)"/.exec((err as Error).message);
    if (duplicate) {
      throw new ConfigError(
        `cannot read the PostgreSQL source: two of its columns are named "${duplicate[1]}" when upper and lower case are not told apart, as DuckDB does not; ` +
          'read it through a query that selects the configured columns under names that differ otherwise (query: SELECT ... AS ...)',
        context,
      );
    }
    const source = table.source.table;
    if (err instanceof ConfigError && source && /does not exist/.test(err.message)) {
      // psql folds an unquoted name to lower case; cdcflow quotes it, so `sales.Orders` is not `sales.orders`.
      const [{ names }] = await session.rows<{ names: string | null }>(`SELECT * FROM ${postgresQuerySql(attached, relationsAlikeSql(source))}`);
      if (names) throw new ConfigError(`${err.message}; names are matched with their case, and PostgreSQL has ${names}`, context);
    }
    throw err;
  }
}

/**
 * A `real` is read as PostgreSQL's text of it, which is the shortest that reads back as the same
 * real only while `extra_float_digits` is above 0 (its default, 1); at 0 or below PostgreSQL
 * rounds it to 6 digits. A role or database set so is refused rather than read rounded.
 */
async function assertShortestFloatText(session: Session, attached: string, context: ErrorContext): Promise<void> {
  const [{ digits }] = await session.rows<{ digits: string }>(`SELECT * FROM ${postgresQuerySql(attached, EXTRA_FLOAT_DIGITS_SQL)}`);
  if (Number(digits) > 0) return;
  throw new ConfigError(
    `the PostgreSQL session sets extra_float_digits = ${digits}, at which PostgreSQL rounds a real to 6 digits; set it to 1 (the default) for the role, the database or the connection string`,
    context,
  );
}

/** PostgreSQL's types of the named columns (asked only for those that may be numerics). */
async function numericTypes(session: Session, attached: string, table: PostgresTable, names: string[]): Promise<Map<string, string>> {
  if (names.length === 0) return new Map();
  const [row] = await session.rows<Record<string, string>>(`SELECT * FROM ${postgresQuerySql(attached, columnTypesSql(table.source, names))}`);
  return new Map(names.map((n, i) => [n, row[`t${i + 1}`]]));
}

function keyText(keys: readonly ColumnSpec[], values: readonly (string | null)[]): string {
  return `(${keys.map((k, i) => `${k.name}=${values[i] ?? 'NULL'}`).join(', ')})`;
}

/** Keyset chunks skip rows whose key is NULL, so such a row is refused before anything is read. */
async function assertNoNullKeys(session: Session, attached: string, table: PostgresTable, keys: SourceColumn[]): Promise<void> {
  const declared = keysDeclaredNotNullSql(table.source, keys);
  if (declared) {
    const [{ n }] = await session.rows<{ n: string | number }>(`SELECT * FROM ${postgresQuerySql(attached, declared)}`);
    if (Number(n) === keys.length) return;
  }
  const [hit] = await session.rows<Record<string, string | null>>(`SELECT * FROM ${postgresQuerySql(attached, nullKeySql(table.source, keys))}`);
  if (hit) {
    const values = keys.map((_, i) => hit[keyAlias(i)]);
    const column = keys[values.findIndex((v) => v === null)].name;
    throw new DataError(`key column "${column}" is NULL in the row ${keyText(keys, values)}`, { dataset: table.dataset, table: table.name, column });
  }
}

async function highWatermark(session: Session, attached: string, table: PostgresTable): Promise<string | null> {
  if (!table.source.watermark) return null;
  const [row] = await refusedAsConfig(
    session.rows<{ watermark: string | null }>(`SELECT * FROM ${postgresQuerySql(attached, highWatermarkSql(table.source, table.source.watermark))}`),
    "PostgreSQL refused the watermark query (is the watermark column in the source, and does its lookback fit the column's type: a duration for a timestamp or date, a number for a number?)",
    { dataset: table.dataset, table: table.name, column: table.source.watermark },
  );
  return row?.watermark ?? null;
}

/** The first value of a chunk that does not convert exactly, named by key and column. */
async function castFailure(session: Session, attached: string, pgSql: string, table: PostgresTable, columns: SourceColumn[], keys: SourceColumn[]): Promise<DataError | undefined> {
  for (const [i, column] of columns.entries()) {
    const sql = castFailureSql(attached, pgSql, columns, i, keys.length);
    const [hit] = sql ? await session.rows<{ key: string[]; value: string; wrapped: boolean }>(sql) : [];
    if (hit) {
      const key = keyText(keys, hit.key);
      const context = { dataset: table.dataset, table: table.name, key, column: column.name };
      if (hit.wrapped) {
        return new DataError(`a value in column ${columnLabel(column)} of the row with key ${key} is later than ${DUCKDB_LATEST_TIMESTAMP}, the latest timestamp DuckDB holds`, context);
      }
      return new DataError(castFailureMessage(column, hit.value, 'column', ` of the row with key ${key}`), { ...context, ...valueContext(column, hit.value) });
    }
  }
  return undefined;
}

/**
 * The first text of a chunk that is not UTF-8, named by key and column, with what to do. Only an
 * SQL_ASCII database's text is checked: PostgreSQL sends its bytes as they are (others it converts).
 */
async function notUtf8Failure(session: Session, attached: string, pgSql: string, table: PostgresTable, columns: SourceColumn[], keys: SourceColumn[]): Promise<DataError | undefined> {
  for (const [i, column] of columns.entries()) {
    const sql = notUtf8Sql(attached, pgSql, columns, i, keys.length);
    const [hit] = sql ? await session.rows<{ key: string[] }>(sql) : [];
    if (!hit) continue;
    const key = keyText(keys, hit.key);
    const remedy =
      "the database's encoding is SQL_ASCII, whose text PostgreSQL sends unconverted: convert the data to UTF-8, or read the column through a query that converts it " +
      `(for Latin-1 text: convert_from(convert(convert_to(${quoteIdent(column.sourceName)}, 'SQL_ASCII'), 'LATIN1', 'UTF8'), 'SQL_ASCII'))`;
    return new DataError(`column ${columnLabel(column)} of the row with key ${key} holds text that is not UTF-8, which cdcflow reads text as; ${remedy}`, {
      dataset: table.dataset,
      table: table.name,
      key,
      column: column.name,
    });
  }
  return undefined;
}

/**
 * Where the chunk after `after` ends: its last key, or null when the rest of the scope fits in
 * it. Runs ahead of the chunk reads, on the extract's own session.
 */
async function chunkEnd(session: Session, attached: string, table: PostgresTable, keys: SourceColumn[], scope: ReadScope, after: string[] | null): Promise<string[] | null> {
  // The first query with the requested keys and the watermark in it: PostgreSQL reads them as its columns' types.
  const found = await refusedAsConfig(
    session.rows<Record<string, string>>(`SELECT * FROM ${postgresQuerySql(attached, chunkEndSql(table.source, keys, scope, after))}`),
    "PostgreSQL refused the chunk query (do the requested keys and the watermark fit the source's column types? A watermark column whose type changed since the last commit needs one full read: a dump with cdcflow backfill, or a run in mode full)",
    { dataset: table.dataset, table: table.name },
  );
  if (found.length < 2) return null;
  const upTo = keys.map((_, i) => found[0][keyAlias(i)]);
  if (after && upTo.every((v, i) => v === after[i])) throw notAdvancingError(table, keys, after);
  return upTo;
}

/**
 * A chunk whose end is written as the previous chunk's: a key whose text PostgreSQL does not
 * read back as its value. Every further chunk would be empty and the extract would not end.
 */
function notAdvancingError(table: PostgresTable, keys: SourceColumn[], after: string[]): DataError {
  const key = keyText(keys, after);
  return new DataError(
    `the keyset chunks stop advancing at key ${key}: PostgreSQL writes the next chunk's last key as that same text, which it does not read back as the key's value ` +
      `(a key column of a type whose text loses detail in this session's settings); read the key through a query that selects it in a form that keeps it exactly`,
    { dataset: table.dataset, table: table.name, key, column: keys.map((k) => k.name).join(', ') },
  );
}

/** One chunk's key range to `outPath`; the number of rows written. */
async function readChunk(
  session: Session,
  attached: string,
  table: PostgresTable,
  columns: SourceColumn[],
  keys: SourceColumn[],
  bounds: ChunkBounds,
  outPath: string,
): Promise<number> {
  const pgSql = chunkQuerySql(table.source, columns, keys, bounds);
  try {
    return await copyRows(session, copyChunkSql(attached, pgSql, columns, outPath));
  } catch (err) {
    if ((err as Error).message.includes(NOT_UTF8_MESSAGE)) throw (await notUtf8Failure(session, attached, pgSql, table, columns, keys)) ?? err;
    if (!CAST_ERROR.test((err as Error).message)) throw err;
    throw (await castFailure(session, attached, pgSql, table, columns, keys)) ?? err;
  }
}

/** Runs `fn` with `count` sibling sessions of `session`, each in UTC like it. */
async function withLanes<T>(session: Session, count: number, fn: (lanes: Session[]) => Promise<T>, opened: Session[] = []): Promise<T> {
  if (opened.length === count) return fn(opened);
  return session.withSibling(async (lane) => {
    await lane.run(UTC_SQL);
    return withLanes(session, count, fn, [...opened, lane]);
  });
}

/** Same run, same config, same lower bound: the chunks on disk belong to this extract. */
function extractFingerprint(table: PostgresTable, request: ExtractRequest): string {
  const { keys, columns, source } = table;
  return createHash('sha256').update(JSON.stringify({ runId: request.runId, since: request.since, requested: request.keys ?? null, keys, columns, source })).digest('hex');
}

async function startOrResume(session: Session, folder: string, fingerprint: string, keysOnly: boolean, watermark: () => Promise<string | null>): Promise<ExtractManifest> {
  const found = await readJsonIfExists<ExtractManifest>(manifestPath(folder));
  if (found?.fingerprint === fingerprint) {
    // A recorded chunk whose file is gone or changed is read again, and every chunk after it:
    // the batch never lacks rows its manifest vouches for. The watermark, taken before the
    // first chunk, still lies below every change the new reads can see.
    const damaged = await firstDamagedFile(session, folder, chunkRecords(folder, found.chunks));
    if (damaged) {
      found.chunks = found.chunks.slice(0, damaged.index);
      found.complete = false;
      await writeJsonAtomically(manifestPath(folder), found);
    }
    await removeChunksAfter(folder, found.chunks.length);
    return found;
  }
  await rm(folder, { recursive: true, force: true });
  const manifest: ExtractManifest = { fingerprint, watermark: await watermark(), chunks: [], complete: false, keysOnly };
  await writeJsonAtomically(manifestPath(folder), manifest);
  return manifest;
}

/**
 * A keys-only dump finds its keys by PostgreSQL's comparison with the source's own values: a key
 * held as text and read as another type is compared as that text, which the requested value
 * need not spell alike (`5` for the text `05`, an ISO 8601 date for text in a `format`), so a
 * key found at the source would be committed as deleted.
 */
function assertKeysComparable(table: PostgresTable, keys: readonly SourceColumn[]): void {
  const textual = keys.find((c) => heldAsFormattedText(c) || (heldAsText(c) && c.type !== 'varchar'));
  if (!textual) return;
  throw new ConfigError(
    `a keys-only dump cannot find keys of column ${columnLabel(textual)}: PostgreSQL holds it as text${textual.format ? ` (read in format ${textual.format})` : ''} ` +
      `and compares that text, not the ${textual.type}; dump the whole table (cdcflow backfill without --key)`,
    { dataset: table.dataset, table: table.name, column: textual.name },
  );
}

/** A column PostgreSQL holds as text (not a numeric or an array, which are read as their text). */
function heldAsText(c: SourceColumn): boolean {
  return c.readAs === 'value' && c.arrivesAs === 'VARCHAR';
}

/** The requested keys as the text PostgreSQL is asked for (see `requestedKeyTextSql`). */
async function requestedKeyText(session: Session, keys: readonly SourceColumn[], values: string[][]): Promise<string[][]> {
  const rows = await session.rows<Record<string, string>>(requestedKeyTextSql(keys, values));
  return rows.map((row) => keys.map((_, i) => row[keyAlias(i)]));
}

/** A column PostgreSQL holds as text that is read in a format: PostgreSQL orders its text, not the date it stands for. */
function heldAsFormattedText(c: SourceColumn): boolean {
  return c.format !== undefined && c.arrivesAs === 'VARCHAR';
}

/**
 * A delta reads above PostgreSQL's max() of the watermark column; of text in a format such as
 * %d/%m/%Y that is not the latest value (31/01/2024 > 01/02/2024), so the next delta would miss rows.
 */
function assertWatermarkOrdered(table: PostgresTable, columns: readonly SourceColumn[]): void {
  const watermark = table.source.watermark?.toLowerCase();
  const textual = columns.find((c) => c.sourceName.toLowerCase() === watermark && heldAsFormattedText(c));
  if (!textual) return;
  throw new ConfigError(
    `the watermark column ${columnLabel(textual)} cannot be text: PostgreSQL holds it as text (read in format ${textual.format}) and takes the greatest text, ` +
      `not the latest ${textual.type}, so delta runs would miss rows; make the watermark a column PostgreSQL holds as a date or timestamp ` +
      `(e.g. a query selecting to_timestamp(the text, 'DD/MM/YYYY') under a name of its own), or remove the watermark`,
    { dataset: table.dataset, table: table.name, column: textual.name },
  );
}

/**
 * Copies the table out chunk by chunk. Each chunk is its own short read (no long transaction,
 * no locks), so the dump is not one snapshot: a row changed during it is read as it was when
 * its chunk was read, and the next run sees the change. The watermark returned for a delta is
 * the column's maximum *before* the first chunk (less the lookback): every row changed later lies
 * above it and is read again by the next delta, so a change made mid-dump is never lost.
 */
async function extract(
  session: Session,
  table: PostgresTable,
  request: ExtractRequest,
  checkpoint: (done: ChunkCheckpoint) => void | Promise<void>,
): Promise<ExtractResult> {
  const folder = extractFolder(table, request.businessDate);
  await session.run(UTC_SQL);
  return withAttached(session, table, async (attached, text) => {
    const { keys, columns } = await sourceColumns(session, attached, table, text.unconverted);
    if (request.keys !== undefined) assertKeysComparable(table, keys);
    assertWatermarkOrdered(table, columns);
    const manifest = await startOrResume(session, folder, extractFingerprint(table, request), request.keys !== undefined, () => highWatermark(session, attached, table));
    const resumedChunks = manifest.chunks.length;
    if (!manifest.complete) await assertNoNullKeys(session, attached, table, keys);
    const scope: ReadScope = { since: request.since, keys: request.keys ? await requestedKeyText(session, keys, request.keys) : null };
    let after = manifest.chunks.at(-1)?.lastKey ?? null;
    let planned = manifest.chunks.length;
    let ended = manifest.complete;
    // The next chunk's range: from the end of the one before to its own end, found ahead.
    const nextChunk = async () => {
      if (ended) return undefined;
      const upTo = await chunkEnd(session, attached, table, keys, scope, after);
      const chunk = { number: ++planned, bounds: { ...scope, after, upTo } };
      ended = upTo === null;
      after = upTo;
      return chunk;
    };
    const read = (lane: Session, chunk: { number: number; bounds: ChunkBounds }) =>
      writeAtomically(chunkFile(folder, chunk.number), (tmp) => readChunk(lane, attached, table, columns, keys, chunk.bounds, tmp));
    const record = async ({ number, bounds }: { number: number; bounds: ChunkBounds }, rows: number) => {
      const last = bounds.upTo === null;
      let done: ChunkCheckpoint | undefined;
      if (last && rows === 0 && number > 1) {
        // The chunk before ended exactly at the end of the table.
        await rm(chunkFile(folder, number));
      } else {
        done = { chunk: number, rows, lastKey: bounds.upTo ?? [], rowsRead: (manifest.chunks.at(-1)?.rowsRead ?? 0) + rows };
        manifest.chunks.push(done);
      }
      manifest.complete = last;
      await writeJsonAtomically(manifestPath(folder), manifest);
      // After the manifest: a checkpoint names a chunk that is durable.
      if (done) await checkpoint(done);
    };
    // Each chunk on a connection of its own: one chunk's Parquet is written while the next is read.
    if (!manifest.complete) await withLanes(session, table.source.concurrentChunks, (lanes) => runOnLanes(lanes, nextChunk, read, record));
    return {
      folder,
      chunks: manifest.chunks.length,
      rows: manifest.chunks.reduce((sum, c) => sum + c.rows, 0),
      watermark: manifest.watermark ?? request.since,
      resumedChunks,
    };
  });
}

/** The manifest of a finished extract; refused while it is not (the batch would lack rows). */
async function completeManifest(table: TableConfig, businessDate: string): Promise<ExtractManifest> {
  const manifest = await readJsonIfExists<ExtractManifest>(manifestPath(extractFolder(table, businessDate)));
  if (!manifest?.complete) {
    throw new StateError(`the extract of ${businessDate} is not complete; run the table's extract stage first`, { dataset: table.dataset, table: table.name, businessDate });
  }
  return manifest;
}

/**
 * Writes a keys-only dump's state chunk (`write` returns its rows; null: nothing is committed,
 * so there is none) and records it in the finished extract's manifest, so that the batch reads
 * it, and refuses to go on without it, like any chunk. Writing it again gives the same record.
 */
export async function recordStateChunk(table: TableConfig, businessDate: string, write: ((tmpPath: string) => Promise<number>) | null): Promise<void> {
  const manifest = await completeManifest(table, businessDate);
  const folder = extractFolder(table, businessDate);
  const file = stateChunkFile(folder);
  const stateChunk = write ? { file: path.basename(file), rows: await writeAtomically(file, write) } : null;
  await writeJsonAtomically(manifestPath(folder), { ...manifest, stateChunk });
}

/**
 * The files the manifest lists (the chunks, a keys-only dump's state chunk), read as Parquet; the
 * extract stage must have completed. A file missing or changed since is refused: the batch would
 * silently lack its rows (in a full run, deletes of keys the source still has, or that a
 * keys-only dump did not ask for).
 */
async function batch(session: Session, table: PostgresTable, businessDate: string): Promise<SourceBatch> {
  const folder = extractFolder(table, businessDate);
  const context = { dataset: table.dataset, table: table.name, businessDate };
  const manifest = await completeManifest(table, businessDate);
  if (manifest.keysOnly && manifest.stateChunk === undefined) {
    throw new StateError(`the keys-only extract of ${businessDate} has no state chunk recorded (the committed rows of the keys not asked for); run the table's extract stage first`, context);
  }
  const records = batchRecords(folder, manifest);
  const damaged = await firstDamagedFile(session, folder, records);
  if (damaged) {
    const { name, rows, path: file } = records[damaged.index];
    const found = damaged.rows === null ? 'is missing' : `holds ${damaged.rows} rows`;
    throw new StateError(`${name} of the extract of ${businessDate} ${found}, its manifest records ${rows}; run the date again to read the source anew`, { ...context, file });
  }
  // The chunks hold the columns under their configured names (copyChunkSql).
  const chunks: FileTableConfig = {
    ...table,
    keys: table.keys.map(readByName),
    columns: table.columns.map(readByName),
    source: { format: 'parquet', path: path.join(folder, 'chunk-*.parquet'), csv: DEFAULT_CSV_OPTIONS, extraColumns: 'ignore', missingColumns: 'refuse', extract: false },
  };
  return { table: chunks, files: await describeSourceFiles(chunks, records.map((r) => r.path)) };
}

export const postgresSource: Source<PostgresSourceSpec> = { batch, extract };

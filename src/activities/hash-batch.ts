/** Stage 1: read the batch, cast it to the configured types, add key and non-key hashes. */
import { hashChangeEvents } from '../changes/hash-events';
import { sourceName } from '../config/columns';
import type { FileTableConfig } from '../config/types';
import { copyRows, type Session } from '../engine/duckdb';
import { keyTextSql, quoteIdent, quoteLiteral } from '../engine/sql';
import { hashBatchSql, readOwnParquet } from '../engine/stage-sql';
import { DataError } from '../errors';
import { findCastFailure, findRepeatedHeader, locateDuplicateKey, locateNullKey } from '../sources/diagnose';
import { checkColumns } from '../sources/check-columns';
import { type BatchFile, batchFiles, readBatchSql, scanSource, sourceReading } from '../sources/file-source';
import { classifyReadError, PERMANENT_DUCKDB_ERROR } from '../sources/read-errors';
import { type BatchToHash, hashOnce, type HashWork } from './hash-stage';
import { type ActivityDeps, runStage } from './stage-runner';
import type { HashResult, StageInput } from './types';

export function hashBatch(deps: ActivityDeps) {
  const hashEvents = hashChangeEvents(deps);
  return ({ table: configured, businessDate }: StageInput): Promise<HashResult> =>
    configured.mode === 'changes'
      ? hashEvents({ table: configured, businessDate })
      : runStage(deps, 'hash', (session) => hashOnce(session, configured, businessDate, undefined, (batch) => hashRows(session, batch)));
}

/** Reads the batch's rows, casts and hashes them into the stage's output, and checks their keys. */
async function hashRows(session: Session, { table, copies }: BatchToHash): Promise<HashWork> {
  const files = await batchFiles(table, copies.map((f) => f.path));
  const { types, absent } = await checkColumns(session, table, files);
  let rows = 0;
  return {
    write: async (tmp) => {
      try {
        rows = await copyRows(session, hashBatchSql(table, readBatchSql(table.source, files, absent), tmp, types, sourceReading(table.source)));
      } catch (err) {
        if (!PERMANENT_DUCKDB_ERROR.test((err as Error).message)) throw err;
        throw await diagnoseFailedRead(session, table, files, err);
      }
      await assertNoRepeatedHeader(session, table, files, tmp);
      await assertKeysValid(session, table, files, tmp);
    },
    result: () => ({ rows, files: files.length }),
  };
}

/** Why the batch could not be read or cast: the first file, line or value at fault. */
async function diagnoseFailedRead(session: Session, table: FileTableConfig, files: readonly BatchFile[], err: unknown): Promise<unknown> {
  for (const file of files) await scanSource(session, table, file);
  return (
    (await findRepeatedHeader(session, table, files)) ??
    (await findCastFailure(session, table, files)) ??
    (await classifyReadError(session, err, table, files.map((f) => f.path).join(', ')))
  );
}

/** With text columns only, a repeated header casts fine: look for it where it would hide. */
async function assertNoRepeatedHeader(session: Session, table: FileTableConfig, files: readonly BatchFile[], hashedPath: string): Promise<void> {
  if (table.source.format !== 'csv' || !table.source.csv.header) return;
  const columns = [...table.keys, ...table.columns];
  if (columns.some((c) => c.type !== 'varchar')) return;
  // The hashed rows have the configured names; a repeated header holds the source's.
  const condition = columns.map((c) => `lower(${quoteIdent(c.name)}) = ${quoteLiteral(sourceName(c).toLowerCase())}`).join(' AND ');
  const [{ n }] = await session.rows<{ n: string | number }>(`SELECT count(*) AS n FROM ${readOwnParquet(hashedPath)} WHERE ${condition}`);
  if (Number(n) > 0) {
    throw (await findRepeatedHeader(session, table, files)) ?? new DataError('a row repeats the header', { dataset: table.dataset, table: table.name });
  }
}

/** Keys must be present and unique in a batch: otherwise the diff has no single answer. */
async function assertKeysValid(session: Session, table: FileTableConfig, files: readonly BatchFile[], hashedPath: string): Promise<void> {
  const hashed = readOwnParquet(hashedPath);
  const nullCondition = table.keys.map((k) => `${quoteIdent(k.name)} IS NULL`).join(' OR ');
  const [{ n }] = await session.rows<{ n: string | number }>(`SELECT count(*) AS n FROM ${hashed} WHERE ${nullCondition}`);
  if (Number(n) > 0) throw await locateNullKey(session, table, files);

  // Grouping on the 16-byte hash alone spills to disk at any size; the key text is fetched for
  // the offending hash only. The smallest such hash, so that every attempt names the same key.
  const [dup] = await session.rows<{ key_hash: string | null }>(
    `SELECT CAST(min(KEY_HASH) AS VARCHAR) AS key_hash FROM (SELECT KEY_HASH FROM ${hashed} GROUP BY KEY_HASH HAVING count(*) > 1)`,
  );
  if (!dup?.key_hash) return;
  const [{ key_text }] = await session.rows<{ key_text: string }>(
    `SELECT ${keyTextSql(table.keys)} AS key_text FROM ${hashed} WHERE KEY_HASH = CAST(${quoteLiteral(dup.key_hash)} AS UUID) LIMIT 1`,
  );
  throw await locateDuplicateKey(session, table, files, dup.key_hash, key_text);
}

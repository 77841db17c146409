/** Stage 1: read the batch, cast it to the configured types, add key and non-key hashes. */
import type { FileTableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import { hashBatchSql, readOwnParquet } from '../engine/stage-sql';
import { DataError } from '../errors';
import { findCastFailure, locateDuplicateKey, locateNullKey } from '../sources/diagnose';
import { describeSource, readSourceSql } from '../sources/file-source';
import { sourceOf } from '../sources/registry';
import { tableLayout } from '../warehouse/layout';
import { hashFingerprint } from './fingerprint';
import { type ActivityDeps, runStage } from './stage-runner';
import { commitStage, committedStage } from './stage-output';
import type { HashResult, StageInput } from './types';

/** DuckDB error classes that a retry cannot fix: the data or its shape is wrong. */
const PERMANENT_DUCKDB_ERROR = /^(Conversion|Invalid Input|Binder|Parser|Catalog|Out of Range) Error/;

export function hashBatch(deps: ActivityDeps) {
  return ({ table: configured, businessDate }: StageInput): Promise<HashResult> =>
    runStage(deps, 'hash', async (session) => {
      // From here on, `table` reads the batch's files (an extracted source's are Parquet).
      const { table, files } = await sourceOf(configured).batch(session, configured, businessDate);
      const layout = tableLayout(table.warehouse, table.dataset, table.name);
      const paths = files.map((f) => f.path);
      const fingerprint = hashFingerprint(table, files);
      const outputPath = layout.stageFile(businessDate, 'hashed');
      const manifestPath = layout.stageManifest(businessDate, 'hashed');
      const done = await committedStage<HashResult>(outputPath, manifestPath, fingerprint);
      if (done) return { ...done, skipped: true };

      await assertColumnsPresent(session, table, paths);
      return commitStage<HashResult>({
        outputPath,
        manifestPath,
        fingerprint,
        write: async (tmp) => {
          try {
            await session.run(hashBatchSql(table, readSourceSql(table.source, paths), tmp));
          } catch (err) {
            const message = (err as Error).message;
            if (!PERMANENT_DUCKDB_ERROR.test(message)) throw err;
            throw (await findCastFailure(session, table, paths)) ??
              new DataError(`cannot read the batch: ${message.split('\n')[0]}`, { dataset: table.dataset, table: table.name, file: paths.join(', ') });
          }
          await assertKeysValid(session, table, paths, tmp);
        },
        result: async (tmp) => {
          const [{ n }] = await session.rows<{ n: string | number }>(`SELECT count(*) AS n FROM ${readOwnParquet(tmp)}`);
          return { rows: Number(n), files: files.length, fingerprint, skipped: false };
        },
      });
    });
}

/** Every configured column must be in every file: a file without it would read as NULLs. */
async function assertColumnsPresent(session: Session, table: FileTableConfig, files: string[]): Promise<void> {
  // File by file: the union of several files would hide a gap in one of them.
  for (const file of files) {
    const present = new Set([...(await describeSource(session, table.source, [file])).keys()].map((n) => n.toLowerCase()));
    const missing = [...table.keys, ...table.columns].filter((c) => !present.has(c.name.toLowerCase())).map((c) => c.name);
    if (missing.length > 0) {
      throw new DataError(`source is missing configured column(s) ${missing.map((m) => `"${m}"`).join(', ')}`, {
        dataset: table.dataset,
        table: table.name,
        file,
        column: missing.join(','),
      });
    }
  }
}

/** Keys must be present and unique in a batch: otherwise the diff has no single answer. */
async function assertKeysValid(session: Session, table: FileTableConfig, files: string[], hashedPath: string): Promise<void> {
  const hashed = readOwnParquet(hashedPath);
  const nullCondition = table.keys.map((k) => `${quoteIdent(k.name)} IS NULL`).join(' OR ');
  const [{ n }] = await session.rows<{ n: string | number }>(`SELECT count(*) AS n FROM ${hashed} WHERE ${nullCondition}`);
  if (Number(n) > 0) throw await locateNullKey(session, table, files);

  const keyText = `'(' || concat_ws(', ', ${table.keys.map((k) => `${quoteLiteral(`${k.name}=`)} || CAST(${quoteIdent(k.name)} AS VARCHAR)`).join(', ')}) || ')'`;
  const [dup] = await session.rows<{ key_hash: string; key_text: string }>(
    `SELECT CAST(KEY_HASH AS VARCHAR) AS key_hash, any_value(${keyText}) AS key_text FROM ${hashed} ` +
      `GROUP BY KEY_HASH HAVING count(*) > 1 ORDER BY KEY_HASH LIMIT 1`,
  );
  if (dup) throw await locateDuplicateKey(session, table, files, dup.key_hash, dup.key_text);
}

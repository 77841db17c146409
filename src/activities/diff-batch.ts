/**
 * Stages 2-4 of a table run, or of one key-hash bucket of it: one pass over batch and base marks
 * every key I, D or X, U or N (diffSql), and writes the bucket's share of the new state and of
 * the date's history, each sorted by KEY_HASH within the bucket. The commit (write-outputs.ts)
 * links these files into the catalog's data folder and registers every bucket's in one
 * transaction, so buckets run in parallel, on any worker, without a global sort.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { prepareChangeDiff } from '../changes/diff';
import { type Bucket, keyRangeSql } from '../engine/key-buckets';
import type { Session } from '../engine/duckdb';
import { historyFileSql, missingColumns, readOwnParquet, snapshotDiffSql, stateFileSql, withAppendedColumnsSql } from '../engine/stage-sql';
import type { TableConfig } from '../config/types';
import { type TableLayout, tableLayout } from '../warehouse/layout';
import { runFingerprint } from './fingerprint';
import { type ActivityDeps, runStage } from './stage-runner';
import { commitStage, committedStage, countOperations } from './stage-output';
import type { DiffInput, DiffResult } from './types';

/** A bucket's share of the commit's files, as its diff left them (all keys' when there are no buckets). */
export function bucketFiles(layout: TableLayout, businessDate: string, bucket?: Bucket): { current: string; history: string; manifest: string } {
  return {
    current: layout.stageFile(businessDate, 'state', bucket),
    history: layout.stageFile(businessDate, 'history', bucket),
    manifest: layout.stageManifest(businessDate, 'state', bucket),
  };
}

/** The diff's result recorded for a bucket, if all its files are there and were made from these inputs. */
export async function diffOf(layout: TableLayout, table: Pick<TableConfig, 'mode'>, businessDate: string, fingerprint: string, bucket?: Bucket): Promise<DiffResult | undefined> {
  const files = bucketFiles(layout, businessDate, bucket);
  const written = [files.current, files.history, ...(table.mode === 'changes' ? [layout.stageFile(businessDate, 'order')] : [])];
  return committedStage<DiffResult>(written, files.manifest, fingerprint);
}

/** The base state's files as the diff reads them: with the columns the config appended since (see withAppendedColumnsSql). */
async function baseStateSql(session: Session, table: TableConfig, files: readonly string[]): Promise<string> {
  const state = readOwnParquet(files);
  const appended = await missingColumns(session, table, state);
  return appended.length ? withAppendedColumnsSql(table, state, appended) : state;
}

export function diffBatch(deps: ActivityDeps) {
  return ({ table, businessDate, base, hashFingerprint, bucket }: DiffInput): Promise<DiffResult> =>
    runStage(deps, 'diff', async (session) => {
      const layout = tableLayout(table.warehouse, table.dataset, table.name);
      const fingerprint = runFingerprint(hashFingerprint, table, businessDate, base);
      const out = bucketFiles(layout, businessDate, bucket);
      const done = await diffOf(layout, table, businessDate, fingerprint, bucket);
      if (done) return { ...done, skipped: true };

      // An empty committed state reads like no state: every key of the batch is new.
      const paths = {
        hashed: layout.stageFile(businessDate, 'hashed'),
        base: base?.files.length ? await baseStateSql(session, table, base.files) : null,
        keyRange: keyRangeSql(bucket, 'KEY_HASH'),
      };
      let stale: number | undefined;
      return commitStage<DiffResult>({
        outputPath: out.current,
        manifestPath: out.manifest,
        fingerprint,
        // The history file is complete before the state file is renamed in place, which the manifest then vouches for.
        write: async (tmp) => {
          await mkdir(path.dirname(out.history), { recursive: true });
          let diff: string;
          if (table.mode === 'changes') {
            const change = await prepareChangeDiff(session, table, businessDate, base, { ...paths, order: layout.stageFile(businessDate, 'order') });
            ({ diff, stale } = change);
          } else {
            diff = snapshotDiffSql(table, table.mode, businessDate, paths);
          }
          // Materialized once: the state and the history are two sorted selections of it.
          await session.run(`CREATE TEMP TABLE diff AS ${diff}`);
          await session.run(stateFileSql(table, 'diff', tmp));
          await session.run(historyFileSql(table, 'diff', out.history));
        },
        result: async () => ({ counts: await countOperations(session, 'diff'), skipped: false, ...(stale === undefined ? {} : { stale }) }),
      });
    });
}

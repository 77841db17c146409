/**
 * The write of one key-hash bucket, for runs of several: the bucket's share of the new state
 * and of the date's history, each sorted by KEY_HASH within the bucket, as stage files. The
 * commit (write-outputs.ts) links them into the catalog's data folder and registers them all in
 * one transaction, so the buckets' writes run in parallel, on any worker, without a global sort.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import type { Bucket } from '../engine/key-buckets';
import { isRemotePath } from '../engine/s3';
import { historyFileSql, stateFileSql } from '../engine/stage-sql';
import { type TableLayout, tableLayout } from '../warehouse/layout';
import { runFingerprint } from './fingerprint';
import { type ActivityDeps, runStage } from './stage-runner';
import { commitStage, committedStage, countOperations } from './stage-output';
import type { DiffInput, DiffResult } from './types';

/** The diff stages' outputs of a bucket (of all keys when there are no buckets). */
export function diffStageFiles(layout: TableLayout, businessDate: string, bucket?: Bucket): string[] {
  return (['inserts', 'updates', 'deletes'] as const).map((s) => layout.stageFile(businessDate, s, bucket));
}

/** A bucket's share of the commit's files, as its write left them. */
export function bucketFiles(layout: TableLayout, businessDate: string, bucket: Bucket): { current: string; history: string } {
  return { current: layout.stageFile(businessDate, 'state', bucket), history: layout.stageFile(businessDate, 'history', bucket) };
}

/** Writes the state file and the history file of the diff stages' outputs. */
export async function writeStateAndHistory(session: Session, table: TableConfig, stageFiles: readonly string[], out: { current: string; history: string }): Promise<void> {
  for (const file of [out.current, out.history]) if (!isRemotePath(file)) await mkdir(path.dirname(file), { recursive: true });
  await session.run(stateFileSql(table, stageFiles, out.current));
  await session.run(historyFileSql(table, stageFiles, out.history));
}

export function writeBucket(deps: ActivityDeps) {
  return ({ table, businessDate, base, hashFingerprint, bucket }: DiffInput): Promise<DiffResult> =>
    runStage(deps, 'write', async (session) => {
      if (!bucket) throw new Error('writeBucket needs a bucket');
      const layout = tableLayout(table.warehouse, table.dataset, table.name);
      const fingerprint = runFingerprint(hashFingerprint, table, businessDate, base);
      const out = bucketFiles(layout, businessDate, bucket);
      const manifestPath = layout.stageManifest(businessDate, 'state', bucket);
      const done = await committedStage<DiffResult>(out.current, manifestPath, fingerprint);
      if (done) return { ...done, skipped: true };

      const stageFiles = diffStageFiles(layout, businessDate, bucket);
      return commitStage<DiffResult>({
        outputPath: out.current,
        manifestPath,
        fingerprint,
        // The history file is complete before the state file is renamed in place, which the manifest then vouches for.
        write: (tmp) => writeStateAndHistory(session, table, stageFiles, { current: tmp, history: out.history }),
        result: async () => ({ counts: await countOperations(session, stageFiles), skipped: false }),
      });
    });
}

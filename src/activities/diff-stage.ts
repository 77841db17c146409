/** What the three diff stages share: find their inputs, skip when committed, write, count. */
import { changeDiffSql } from '../changes/diff';
import type { TableConfig } from '../config/types';
import { keyRangeSql } from '../engine/key-buckets';
import { type DiffPaths, readOwnParquet } from '../engine/stage-sql';
import { type StageName as OutputName, tableLayout } from '../warehouse/layout';
import { runFingerprint } from './fingerprint';
import { type ActivityDeps, runStage, type StageName } from './stage-runner';
import { commitStage, committedStage, countOperations } from './stage-output';
import type { DiffInput, DiffResult } from './types';

export function diffStage(
  deps: ActivityDeps,
  stage: StageName,
  output: Extract<OutputName, 'inserts' | 'deletes' | 'updates'>,
  buildSql: (table: TableConfig, businessDate: string, paths: DiffPaths) => string,
) {
  return ({ table, businessDate, base, hashFingerprint, bucket }: DiffInput): Promise<DiffResult> =>
    runStage(deps, stage, async (session) => {
      const layout = tableLayout(table.warehouse, table.dataset, table.name);
      const fingerprint = runFingerprint(hashFingerprint, table, businessDate, base);
      const outputPath = layout.stageFile(businessDate, output, bucket);
      const manifestPath = layout.stageManifest(businessDate, output, bucket);
      const done = await committedStage<DiffResult>(outputPath, manifestPath, fingerprint);
      if (done) return { ...done, skipped: true };

      // An empty committed state reads like no state: every key of the batch is new.
      const paths = {
        hashed: layout.stageFile(businessDate, 'hashed'),
        base: base?.files.length ? readOwnParquet(base.files) : null,
        keyRange: keyRangeSql(bucket, 'KEY_HASH'),
      };
      return commitStage<DiffResult>({
        outputPath,
        manifestPath,
        fingerprint,
        write: (tmp) =>
          session.run(
            table.mode === 'changes'
              ? changeDiffSql(output, table, businessDate, base, { ...paths, out: tmp })
              : buildSql(table, businessDate, { ...paths, out: tmp }),
          ),
        result: async (tmp) => ({ counts: await countOperations(session, [tmp]), skipped: false }),
      });
    });
}

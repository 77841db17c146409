/**
 * Stage 5: commit the new state and the history partition for the business date, then publish
 * the state at the stable current path. The commit marker is written last: until it exists
 * the date is not committed, and a retry writes the same files again.
 */
import { rm, rmdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { TableConfig } from '../config/types';
import { currentStateSql, historyPartitionSql } from '../engine/stage-sql';
import { StateError } from '../errors';
import { publishAtomically, writeAtomically, writeJsonAtomically } from '../warehouse/atomic';
import { type CommitRecord, committedDates, readCommit } from '../warehouse/commits';
import { type TableLayout, tableLayout } from '../warehouse/layout';
import { hashShape, runFingerprint } from './fingerprint';
import { type ActivityDeps, runStage } from './stage-runner';
import { countOperations } from './stage-output';
import type { DiffInput, OperationCounts, WriteResult } from './types';

export function writeOutputs(deps: ActivityDeps) {
  return ({ table, businessDate, base, hashFingerprint }: DiffInput): Promise<WriteResult> =>
    runStage(deps, 'write', async (session) => {
      const layout = tableLayout(table.warehouse, table.dataset, table.name);
      await assertBaseUnchanged(layout, table, businessDate, base?.date ?? null);
      const fingerprint = runFingerprint(hashFingerprint, table, businessDate, base);

      let commit = await readCommit(layout, businessDate);
      const skipped = commit?.fingerprint === fingerprint;
      if (!commit || !skipped) {
        await rm(layout.commitMarker(businessDate), { force: true });
        const stageFiles = (['inserts', 'updates', 'deletes'] as const).map((s) => layout.stageFile(businessDate, s));
        await writeAtomically(layout.snapshot(businessDate), (tmp) => session.run(currentStateSql(stageFiles, tmp)));
        await writeAtomically(layout.history(businessDate), (tmp) => session.run(historyPartitionSql(table, stageFiles, tmp)));
        const counts: OperationCounts = { I: 0, U: 0, D: 0, X: 0, N: 0, ...(await countOperations(session, stageFiles)) };
        commit = {
          businessDate,
          baseDate: base?.date ?? null,
          fingerprint,
          shape: hashShape(table),
          counts,
          currentRows: counts.I + counts.U + counts.N + counts.X,
          historyRows: counts.I + counts.U + counts.D,
        } satisfies CommitRecord;
        await writeJsonAtomically(layout.commitMarker(businessDate), commit);
      }
      // The date is the latest committed one (checked above), so its state is the current one.
      await publishAtomically(layout.snapshot(businessDate), layout.current);
      await rm(layout.workDir(businessDate), { recursive: true, force: true });
      // The parent goes too once no other date is in progress.
      await rmdir(path.dirname(layout.workDir(businessDate))).catch(() => undefined);
      return {
        counts: commit.counts,
        currentPath: layout.current,
        historyPath: layout.history(businessDate),
        currentRows: commit.currentRows,
        historyRows: commit.historyRows,
        skipped,
      };
    });
}

/** Another run may have committed while this one ran; its base would then be stale. */
async function assertBaseUnchanged(layout: TableLayout, table: TableConfig, businessDate: string, plannedBase: string | null): Promise<void> {
  const dates = await committedDates(layout);
  const newer = dates.filter((d) => d > businessDate);
  const baseNow = dates.filter((d) => d < businessDate).at(-1) ?? null;
  if (newer.length > 0 || baseNow !== plannedBase) {
    throw new StateError(
      `the committed state changed while this run was running (planned base ${plannedBase ?? 'none'}, now ${baseNow ?? 'none'}` +
        `${newer.length ? `, newer dates ${newer.join(', ')}` : ''}); run the date again`,
      { dataset: table.dataset, table: table.name, businessDate },
    );
  }
}

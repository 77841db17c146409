/**
 * Stage 5: commit the date in one DuckLake transaction (current state, history rows, commit
 * log, head), then publish the exports, apply retention and remove the run's stage files. A
 * retry after the commit finds the date committed with the same fingerprint and only
 * completes what follows it.
 */
import { randomUUID } from 'node:crypto';
import { rm, rmdir } from 'node:fs/promises';
import type { Session } from '../engine/duckdb';
import { lakeTables, withCatalog } from '../warehouse/catalog';
import { commitDate } from '../warehouse/commit';
import { type CommitRecord, readCommitLog } from '../warehouse/commits';
import { tableLayout } from '../warehouse/layout';
import { publishExports, type StepHook } from '../warehouse/publish';
import { applyRetention } from '../warehouse/retention';
import { hashShape, runFingerprint } from './fingerprint';
import { type ActivityDeps, runStage } from './stage-runner';
import { countOperations } from './stage-output';
import type { DiffInput, OperationCounts, WriteResult } from './types';

export function writeOutputs(deps: ActivityDeps) {
  return (input: DiffInput): Promise<WriteResult> =>
    runStage(deps, 'write', async () => {
      const { table, businessDate } = input;
      const layout = tableLayout(table.warehouse, table.dataset, table.name);
      const step: StepHook = async (name) => deps.atStep?.(name);
      const { commit, skipped } = await withCatalog(deps.engine, table.warehouse, (session, alias) => commitAndPublish(session, alias, input, step));
      await rm(layout.workDir(businessDate), { recursive: true, force: true });
      // The folders go too once no other date is in progress.
      for (const dir of [layout.publishTmp, layout.tableWork]) await rmdir(dir).catch(() => undefined);
      return {
        counts: commit.counts,
        commitId: commit.commitId,
        currentPath: layout.current,
        historyPath: layout.history(businessDate),
        currentRows: commit.currentRows,
        historyRows: commit.historyRows,
        skipped,
      };
    });
}

async function commitAndPublish(
  session: Session,
  alias: string,
  { table, businessDate, base, head, hashFingerprint, watermark }: DiffInput,
  step: StepHook,
): Promise<{ commit: CommitRecord; skipped: boolean }> {
  const layout = tableLayout(table.warehouse, table.dataset, table.name);
  const lake = lakeTables(alias, table.dataset, table.name);
  const fingerprint = runFingerprint(hashFingerprint, table, businessDate, base);

  let commit = (await readCommitLog(session, lake)).find((c) => c.businessDate === businessDate);
  const skipped = commit?.fingerprint === fingerprint;
  if (!commit || !skipped) {
    const stageFiles = (['inserts', 'updates', 'deletes'] as const).map((s) => layout.stageFile(businessDate, s));
    const counts: OperationCounts = { I: 0, U: 0, D: 0, X: 0, N: 0, ...(await countOperations(session, stageFiles)) };
    commit = {
      businessDate,
      commitId: randomUUID(),
      baseDate: base?.date ?? null,
      fingerprint,
      shape: hashShape(table),
      counts,
      currentRows: counts.I + counts.U + counts.N + counts.X,
      historyRows: counts.I + counts.U + counts.D,
      watermark: watermark ?? null,
    } satisfies CommitRecord;
    const tag = { cdcflow: 1, dataset: table.dataset, table: table.name, date: businessDate, commit: commit.commitId, keep: table.retention.keepDates } as const;
    await step('commit');
    await commitDate(session, { table, lake, stageFiles, commit, tag, expectedHead: head, step });
  }
  await step('publish');
  await publishExports(session, { table, lake, layout, step });
  await step('retention');
  await applyRetention(session, alias);
  return { commit, skipped };
}

/**
 * The stage activities, built from their dependencies in the worker. Workflows type their
 * proxies with `ReturnType<typeof createActivities>`.
 */
import { applySink } from './apply-sink';
import { datasetRunOpen, requestDatasetTurn, runningDatasetQueue } from './dataset-queue';
import { diffBatch } from './diff-batch';
import { expireSnapshots } from './expire-snapshots';
import { extractSource } from './extract-source';
import { hashBatch } from './hash-batch';
import { planTableRun } from './plan-table-run';
import { runTableStages } from './run-table-stages';
import { countSourceFiles } from './source-files';
import type { ActivityDeps } from './stage-runner';
import { writeOutputs } from './write-outputs';

export type { ActivityDeps };

export function createActivities(deps: ActivityDeps) {
  return {
    countSourceFiles: countSourceFiles(deps),
    runTableStages: runTableStages(deps),
    planTableRun: planTableRun(deps),
    extractSource: extractSource(deps),
    hashBatch: hashBatch(deps),
    diffBatch: diffBatch(deps),
    writeOutputs: writeOutputs(deps),
    applySink: applySink(deps),
    expireSnapshots: expireSnapshots(deps),
    requestDatasetTurn: requestDatasetTurn(),
    datasetRunOpen: datasetRunOpen(),
    runningDatasetQueue: runningDatasetQueue(),
  };
}

export type Activities = ReturnType<typeof createActivities>;

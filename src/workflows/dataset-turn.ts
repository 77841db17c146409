/**
 * A dataset run takes its turn from the dataset's queue workflow before any table runs, and
 * gives it back at the end, so runs and dumps of one dataset never commit at the same time.
 * Runs the queue starts itself (dumps) already hold the turn.
 */
import { CancellationScope, condition, getExternalWorkflowHandle, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DatasetConfig } from '../config/types';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import { awaitUnlessGone } from './await-unless-gone';
import { turnGrantedSignal, turnReleasedSignal } from './backfill';
import { plainStageFailure } from './failures';
import { datasetQueueWorkflowId } from './ids';
import { searchAttributesEnabled } from './run-attributes';

const { requestDatasetTurn, runningDatasetQueue } = proxyActivities<Pick<Activities, 'requestDatasetTurn' | 'runningDatasetQueue'>>({
  startToCloseTimeout: '1 minute',
  // A queue on another task queue (client/dataset-queue.ts) stays there: say so at once.
  retry: { maximumInterval: '30 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});

export async function withDatasetTurn<T>(config: DatasetConfig, holdsTurn: boolean, work: () => Promise<T>): Promise<T> {
  // Runs recorded before the queue existed replay without it.
  if (holdsTurn || !patched('dataset-turn')) return work();
  let granted = false;
  setHandler(turnGrantedSignal, () => void (granted = true));
  const { workflowId, runId } = workflowInfo();
  const request = () =>
    requestDatasetTurn({ dataset: config.dataset, turn: { workflowId, runId, config }, searchAttributes: searchAttributesEnabled() }).catch((err: unknown) => {
      throw plainStageFailure('the dataset queue', err);
    });
  let queue = await request();
  if (patched('dataset-turn-queue-ended')) {
    // A queue that ended without granting the turn (an operator terminated it) never will: ask the one running now (or a new one).
    const stillQueued = async () => queue !== undefined && (await runningDatasetQueue({ dataset: config.dataset })) === queue;
    while (!(await awaitUnlessGone(() => granted, stillQueued))) queue = await request();
  } else {
    await condition(() => granted);
  }
  try {
    return await work();
  } finally {
    await CancellationScope.nonCancellable(() =>
      // The queue also notices a run that ended without this (terminated, say).
      getExternalWorkflowHandle(datasetQueueWorkflowId(config.dataset)).signal(turnReleasedSignal, { workflowId, runId }).catch(() => undefined),
    );
  }
}

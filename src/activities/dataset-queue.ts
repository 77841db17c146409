/** Activities of the dataset's queue: a run asking for its turn, and whether the sides of a turn still run. */
import { Context } from '@temporalio/activity';
import { datasetQueueChain, signalDatasetQueue } from '../client/dataset-queue';
import { type TurnRequest, turnRequestSignal } from '../workflows/backfill';

/** Asks for the turn; returns the queue's chain of runs that has the request (see datasetQueueChain). */
export function requestDatasetTurn() {
  return async ({ dataset, turn, searchAttributes }: { dataset: string; turn: TurnRequest; searchAttributes?: boolean }): Promise<string | undefined> => {
    const ctx = Context.current();
    const { signaledRunId } = await signalDatasetQueue(ctx.client, ctx.info.taskQueue, dataset, turnRequestSignal, [turn], searchAttributes);
    return datasetQueueChain(ctx.client, dataset, signaledRunId);
  };
}

/** The chain of runs of the dataset's queue running now (undefined: none runs). */
export function runningDatasetQueue() {
  return ({ dataset }: { dataset: string }): Promise<string | undefined> => datasetQueueChain(Context.current().client, dataset);
}

export function datasetRunOpen() {
  return async ({ workflowId, runId }: { workflowId: string; runId: string }): Promise<boolean> => {
    const described = await Context.current().client.workflow.getHandle(workflowId, runId).describe();
    return described.status.name === 'RUNNING';
  };
}

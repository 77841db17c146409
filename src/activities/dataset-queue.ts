/** Activities of the dataset's queue: a run asking for its turn, and whether a run holding it still runs. */
import { Context } from '@temporalio/activity';
import { signalDatasetQueue } from '../client/dataset-queue';
import { type TurnRequest, turnRequestSignal } from '../workflows/backfill';

export function requestDatasetTurn() {
  return async ({ dataset, turn, searchAttributes }: { dataset: string; turn: TurnRequest; searchAttributes?: boolean }): Promise<void> => {
    const ctx = Context.current();
    await signalDatasetQueue(ctx.client, ctx.info.taskQueue, dataset, turnRequestSignal, [turn], searchAttributes);
  };
}

export function datasetRunOpen() {
  return async ({ workflowId, runId }: { workflowId: string; runId: string }): Promise<boolean> => {
    const described = await Context.current().client.workflow.getHandle(workflowId, runId).describe();
    return described.status.name === 'RUNNING';
  };
}

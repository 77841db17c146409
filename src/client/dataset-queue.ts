/** Signal-with-start of a dataset's queue workflow: started if none runs, so no request is lost. */
import type { Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { DatasetQueueInput, datasetQueueWorkflow } from '../workflows/dataset-queue-workflow';
import { datasetQueueWorkflowId } from '../workflows/ids';

export async function signalDatasetQueue<A extends unknown[]>(
  client: Client,
  taskQueue: string,
  dataset: string,
  signal: SignalDefinition<A>,
  args: A,
): Promise<string> {
  const input: DatasetQueueInput = { dataset };
  const handle = await client.workflow.signalWithStart<typeof datasetQueueWorkflow, unknown[]>('datasetQueueWorkflow', {
    workflowId: datasetQueueWorkflowId(dataset),
    taskQueue,
    args: [input],
    // Typed at this function's signature; the SDK's conditional type does not take a generic tuple.
    signal: signal as SignalDefinition<unknown[]>,
    signalArgs: args,
  });
  return handle.workflowId;
}

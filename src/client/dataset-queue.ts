/** A dataset's queue workflow: signal-with-start (started if none runs, so no request is lost), and its status. */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type SignalDefinition, TypedSearchAttributes } from '@temporalio/common';
import { ConfigError } from '../errors';
import { DATASET_KEY } from '../workflows/search-attributes';
import { hasGrpcCode } from './await-result';
import { hasWorker } from './progress';
import { refuseMissingSearchAttributes } from './missing-search-attributes';
import { type DatasetQueueStatus, type DumpStatus, queueStatusQuery } from '../workflows/backfill';
import type { DatasetQueueInput, datasetQueueWorkflow } from '../workflows/dataset-queue-workflow';
import { datasetQueueWorkflowId } from '../workflows/ids';

/**
 * With `searchAttributes`, a queue started here carries the dataset's attribute, and its dumps'
 * runs then carry cdcflow's attributes as other runs do (`status` and the UI list them).
 */
export async function signalDatasetQueue<A extends unknown[]>(
  client: Client,
  taskQueue: string,
  dataset: string,
  signal: SignalDefinition<A>,
  args: A,
  searchAttributes = false,
): Promise<{ workflowId: string; signaledRunId: string }> {
  const workflowId = datasetQueueWorkflowId(dataset);
  await refuseQueueElsewhere(client, workflowId, taskQueue, dataset);
  const input: DatasetQueueInput = { dataset };
  const handle = await client.workflow
    .signalWithStart<typeof datasetQueueWorkflow, unknown[]>('datasetQueueWorkflow', {
      workflowId,
      taskQueue,
      args: [input],
      // Typed at this function's signature; the SDK's conditional type does not take a generic tuple.
      signal: signal as SignalDefinition<unknown[]>,
      signalArgs: args,
      typedSearchAttributes: searchAttributes ? new TypedSearchAttributes([{ key: DATASET_KEY, value: dataset }]) : undefined,
    })
    .catch((err: unknown) => {
      refuseMissingSearchAttributes({ namespace: client.options.namespace, searchAttributes }, err);
      throw err;
    });
  return { workflowId: handle.workflowId, signaledRunId: handle.signaledRunId };
}

/**
 * The chain of runs (continued as new, each carrying the queue's state) that a run of the
 * dataset's queue workflow belongs to, named by its first run's ID; without `runId`, the chain
 * running now, or undefined when none runs (the queue was terminated, say).
 */
export async function datasetQueueChain(client: Client, dataset: string, runId?: string): Promise<string | undefined> {
  try {
    const described = await client.workflow.getHandle(datasetQueueWorkflowId(dataset), runId).describe();
    if (!runId && described.status.name !== 'RUNNING') return undefined;
    return described.raw.workflowExecutionInfo?.firstRunId || described.runId;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * The queue workflow keeps the task queue it was started on. Served there, it serves requests
 * from any task queue (signals cross them); with no worker there, a request would wait for
 * workers that may never come (the demo's queue, a queue renamed since), so it is refused,
 * saying where the queue runs.
 */
async function refuseQueueElsewhere(client: Client, workflowId: string, taskQueue: string, dataset: string): Promise<void> {
  const running = await client.workflow
    .getHandle(workflowId)
    .describe()
    .then((d) => (d.status.name === 'RUNNING' ? d : undefined))
    .catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    });
  if (!running || running.taskQueue === taskQueue) return;
  if (await hasWorker(client, running.taskQueue)) return;
  throw new ConfigError(
    `dataset "${dataset}" has its queue workflow ${workflowId} on task queue "${running.taskQueue}", where no worker polls, not on "${taskQueue}": ` +
      `a dataset's runs, schedules and workers must use one task queue. Set CDCFLOW_TASK_QUEUE=${running.taskQueue}, or, ` +
      `if no worker will serve "${running.taskQueue}" again, end that queue (its dumps go with it; its waiting runs ask again): ` +
      `temporal workflow terminate --workflow-id ${workflowId}, and start this again`,
    { dataset },
  );
}

/** A worker answers the status query in milliseconds: this long without an answer, none will. */
const STATUS_ANSWER_MS = 10_000;
/** gRPC codes of a query no worker took: DEADLINE_EXCEEDED, FAILED_PRECONDITION ("no poller seen for task queue recently"). */
const UNANSWERED_CODES = [4, 9];

/**
 * The queue's status, a query its worker answers. With no worker polling the queue's task queue
 * (or one that stopped lately, which the server lists for a while) the query failed after 30 s
 * with the server's DEADLINE_EXCEEDED: this says so at once, or after STATUS_ANSWER_MS.
 */
export async function datasetQueueStatus(client: Client, dataset: string): Promise<DatasetQueueStatus> {
  const handle = client.workflow.getHandle(datasetQueueWorkflowId(dataset));
  const { taskQueue } = await handle.describe();
  const unanswered = (why: string) =>
    new ConfigError(
      `${why} task queue "${taskQueue}", where the queue workflow ${handle.workflowId} of dataset "${dataset}" runs, so nothing answers for its dumps: ` +
        `start one (cdcflow worker, with CDCFLOW_TASK_QUEUE=${taskQueue}); requests sent meanwhile stay queued`,
      { dataset },
    );
  if (!(await hasWorker(client, taskQueue))) throw unanswered('no worker polls');
  try {
    return await client.connection.withDeadline(Date.now() + STATUS_ANSWER_MS, () => handle.query(queueStatusQuery));
  } catch (err) {
    if (hasGrpcCode(err, UNANSWERED_CODES)) throw unanswered(`no worker answered within ${STATUS_ANSWER_MS / 1000} s (stopped lately, overloaded or cut off from the server?) on`);
    throw err;
  }
}

/** The dumps the dataset's queue lists (none when it never ran). */
export async function queuedDumps(client: Client, dataset: string): Promise<DumpStatus[]> {
  try {
    return (await datasetQueueStatus(client, dataset)).dumps;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return [];
    throw err;
  }
}

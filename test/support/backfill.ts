/** Test helpers for dumps: send a backfill request to the dataset's queue, read its status, wait for its end. */
import type { Client } from '@temporalio/client';
import { signalDatasetQueue } from '../../src/client/dataset-queue';
import type { DatasetConfig } from '../../src/config/types';
import type { TemporalSettings } from '../../src/settings';
import type { DatasetRunResult } from '../../src/workflows';
import { backfillSignal, type BackfillRequest, type DatasetQueueStatus, type DumpStatus, queueStatusQuery } from '../../src/workflows/backfill';
import { datasetQueueWorkflowId } from '../../src/workflows/ids';
import { sleep } from './worker-process';

type Target = { client: Client; settings: Pick<TemporalSettings, 'taskQueue'> };

export async function requestDump(h: Target, config: DatasetConfig, request: Omit<BackfillRequest, 'config'>): Promise<void> {
  await signalDatasetQueue(h.client, h.settings.taskQueue, config.dataset, backfillSignal, [{ ...request, config }]);
}

export function queueStatus(h: Target, dataset: string): Promise<DatasetQueueStatus> {
  return h.client.workflow.getHandle(datasetQueueWorkflowId(dataset)).query(queueStatusQuery);
}

export async function dumpStatus(h: Target, dataset: string, requestId: string): Promise<DumpStatus | undefined> {
  return (await queueStatus(h, dataset)).dumps.find((d) => d.requestId === requestId);
}

/** Polls the status until `done` holds for the dump (or the time runs out). */
export async function waitForDump(h: Target, dataset: string, requestId: string, done: (d: DumpStatus) => boolean, timeoutMs = 90_000): Promise<DumpStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dump = await dumpStatus(h, dataset, requestId);
    if (dump && done(dump)) return dump;
    if (Date.now() > deadline) throw new Error(`dump ${requestId} of ${dataset}: condition not reached; last status ${JSON.stringify(dump)}`);
    await sleep(100);
  }
}

const finished = (d: DumpStatus) => ['completed', 'failed', 'cancelled'].includes(d.state);

/** Sends the request and waits for the dump to end: its status and, when completed, the dataset run's result. */
export async function runDump(h: Target, config: DatasetConfig, request: Omit<BackfillRequest, 'config'>): Promise<{ status: DumpStatus; run?: DatasetRunResult }> {
  await requestDump(h, config, request);
  const status = await waitForDump(h, config.dataset, request.requestId, finished);
  if (status.state !== 'completed') return { status };
  return { status, run: await h.client.workflow.getHandle(status.workflowId).result() };
}

export { finished as dumpFinished };

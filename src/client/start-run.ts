/** Starting (or attaching to) a dataset run, shared by the CLI, the demo, the bench and tests. */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { TemporalSettings } from '../settings';
import { datasetWorkflowId } from '../workflows/ids';
import { BUSINESS_DATE_KEY, DATASET_KEY } from '../workflows/search-attributes';
import { datasetWorkflow, type DatasetWorkflowInput } from '../workflows';

export interface StartedRun {
  handle: WorkflowHandle<typeof datasetWorkflow>;
  runId: string;
  /** True when a run for this dataset and date was already in progress and we attached to it. */
  attached: boolean;
}

export async function startDatasetRun(client: Client, settings: TemporalSettings, input: DatasetWorkflowInput): Promise<StartedRun> {
  const workflowId = datasetWorkflowId(input.config.dataset, input.businessDate);
  const running = await client.workflow
    .getHandle(workflowId)
    .describe()
    .then((d) => d.status.name === 'RUNNING')
    .catch(() => false);
  const handle = await client.workflow.start(datasetWorkflow, {
    workflowId,
    taskQueue: settings.taskQueue,
    args: [input],
    // The ID names dataset and date: a second start while one runs attaches instead of writing twice.
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: settings.searchAttributes
      ? new TypedSearchAttributes([
          { key: DATASET_KEY, value: input.config.dataset },
          { key: BUSINESS_DATE_KEY, value: input.businessDate },
        ])
      : undefined,
  });
  const { runId } = await handle.describe();
  return { handle, runId, attached: running };
}

/** Starting (or attaching to) a dataset run, shared by the CLI, the demo, the bench and tests. */
import { type Client, type WorkflowHandle, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { ConfigError } from '../errors';
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

/** A run started by hand names its business date (scheduled runs derive theirs). */
export type DatedRunInput = DatasetWorkflowInput & { businessDate: string };

export async function startDatasetRun(client: Client, settings: TemporalSettings, input: DatedRunInput): Promise<StartedRun> {
  const workflowId = datasetWorkflowId(input.config.dataset, input.businessDate);
  let handle: WorkflowHandle<typeof datasetWorkflow>;
  let attached = false;
  try {
    handle = await client.workflow.start(datasetWorkflow, {
      workflowId,
      taskQueue: settings.taskQueue,
      args: [input],
      // The ID names dataset and date: while a run is open, a second start attaches to it
      // (below) instead of writing twice; a closed run may be run again.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: settings.searchAttributes
        ? new TypedSearchAttributes([
            { key: DATASET_KEY, value: input.config.dataset },
            { key: BUSINESS_DATE_KEY, value: input.businessDate },
          ])
        : undefined,
    });
  } catch (err) {
    if (settings.searchAttributes && /search attribute/i.test(String((err as Error).cause ?? err))) {
      throw new ConfigError(
        `the Temporal namespace ${settings.namespace} lacks cdcflow's search attributes: register them ` +
          '(temporal operator search-attribute create --name CdcflowDataset --type Keyword ..., see README) ' +
          'or set CDCFLOW_SEARCH_ATTRIBUTES=off',
        {},
        { cause: err },
      );
    }
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    handle = client.workflow.getHandle<typeof datasetWorkflow>(workflowId);
    attached = true;
  }
  const { runId } = await handle.describe();
  return { handle, runId, attached };
}

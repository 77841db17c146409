/** Starting (or attaching to) a dataset run, shared by the CLI, the demo, the bench and tests. */
import { createHash } from 'node:crypto';
import { type Client, type WorkflowHandle, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { StateError } from '../errors';
import type { TemporalSettings } from '../settings';
import { datasetWorkflowId } from '../workflows/ids';
import { datasetRunSearchAttributes } from '../workflows/search-attributes';
import { datasetWorkflow, type DatasetWorkflowInput } from '../workflows';
import { refuseMissingSearchAttributes } from './missing-search-attributes';

export interface StartedRun {
  handle: WorkflowHandle<typeof datasetWorkflow>;
  runId: string;
  /** True when a run for this dataset and date was already in progress and we attached to it. */
  attached: boolean;
}

/** What a run was started with, in its memo: an attach compares it with its own. */
interface RunRequest {
  digest: string;
  sources: string[];
  /** The tables it runs (absent in the memo of runs started by older versions). */
  tables?: string[];
}

function runRequest(input: DatasetWorkflowInput): RunRequest {
  const selected = input.config.tables.filter((t) => !input.tables?.length || input.tables.includes(t.name));
  return {
    digest: createHash('sha256').update(JSON.stringify(input)).digest('hex'),
    sources: selected.map((t) => ('path' in t.source ? t.source.path : `postgres ${t.source.table ? `${t.source.table.schema}.${t.source.table.name}` : t.source.query}`)),
    tables: selected.map((t) => t.name),
  };
}

/** What differs between the running request and ours, for the refusal: the tables first, since they decide the sources. */
function difference(running: RunRequest, request: RunRequest): string {
  const both = (field: 'tables' | 'sources') => {
    const [its, yours] = [running[field]?.join(', '), request[field]?.join(', ')];
    return its === undefined || its === yours ? undefined : `(its ${field}: ${its}; yours: ${yours})`;
  };
  const tables = both('tables');
  if (tables) return `other tables ${tables}`;
  const sources = both('sources');
  return `other input or config${sources ? ` ${sources}` : ''}`;
}

/** Attaching is for the same request; a run started with other input would not be ours to report. */
async function assertSameRequest(handle: WorkflowHandle, request: RunRequest): Promise<void> {
  const running = (await handle.describe()).memo?.request as RunRequest | undefined;
  if (!running || running.digest === request.digest) return;
  throw new StateError(`${handle.workflowId} is already running with ${difference(running, request)}; wait for it to end (or cancel it) and run again`);
}

/** A run started by hand names its business date (scheduled runs derive theirs). */
export type DatedRunInput = DatasetWorkflowInput & { businessDate: string };

export async function startDatasetRun(client: Client, settings: TemporalSettings, input: DatedRunInput): Promise<StartedRun> {
  const workflowId = datasetWorkflowId(input.config.dataset, input.businessDate);
  let handle: WorkflowHandle<typeof datasetWorkflow>;
  let attached = false;
  const request = runRequest(input);
  try {
    handle = await client.workflow.start(datasetWorkflow, {
      workflowId,
      taskQueue: settings.taskQueue,
      args: [input],
      // The ID names dataset and date: while a run is open, a second start attaches to it
      // (below) instead of writing twice; a closed run may be run again.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      memo: { request },
      typedSearchAttributes: settings.searchAttributes ? datasetRunSearchAttributes(input.config.dataset, input.businessDate) : undefined,
    });
  } catch (err) {
    refuseMissingSearchAttributes(settings, err);
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    handle = client.workflow.getHandle<typeof datasetWorkflow>(workflowId);
    attached = true;
    await assertSameRequest(handle, request);
  }
  const { runId } = await handle.describe();
  return { handle, runId, attached };
}

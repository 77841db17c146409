/**
 * A dataset's runs as Temporal's visibility store lists them, by cdcflow's search attributes:
 * dataset and table runs with their state, counts and duration.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { runUrl, type TemporalSettings } from '../settings';
import {
  BUSINESS_DATE_KEY,
  DATASET_KEY,
  DELETES_KEY,
  INSERTS_KEY,
  MODE_KEY,
  ROWS_KEY,
  TABLE_KEY,
  UNCHANGED_KEY,
  UPDATES_KEY,
} from '../workflows/search-attributes';

export interface RunRow {
  kind: 'dataset' | 'table';
  workflowId: string;
  runId: string;
  dataset: string;
  /** Absent on dataset runs. */
  table?: string;
  businessDate?: string;
  mode?: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  state: string;
  counts?: { inserts: number; updates: number; deletes: number; unchanged: number; rows: number };
  startTime: string;
  closeTime?: string;
  durationSeconds?: number;
  url: string;
}

/** A string literal in Temporal's list-filter syntax. */
export function queryString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function row(settings: TemporalSettings, w: WorkflowExecutionInfo): RunRow {
  const sa = w.typedSearchAttributes;
  const inserts = sa.get(INSERTS_KEY);
  return {
    kind: w.type === 'tableWorkflow' ? 'table' : 'dataset',
    workflowId: w.workflowId,
    runId: w.runId,
    dataset: sa.get(DATASET_KEY) ?? '',
    table: sa.get(TABLE_KEY),
    businessDate: sa.get(BUSINESS_DATE_KEY),
    mode: sa.get(MODE_KEY),
    state: w.status.name,
    counts:
      inserts === undefined
        ? undefined
        : { inserts, updates: sa.get(UPDATES_KEY) ?? 0, deletes: sa.get(DELETES_KEY) ?? 0, unchanged: sa.get(UNCHANGED_KEY) ?? 0, rows: sa.get(ROWS_KEY) ?? 0 },
    startTime: w.startTime.toISOString(),
    closeTime: w.closeTime?.toISOString(),
    durationSeconds: w.closeTime ? (w.closeTime.getTime() - w.startTime.getTime()) / 1000 : undefined,
    url: runUrl(settings, w.workflowId, w.runId),
  };
}

/** Runs of `dataset` matching `where` (more list-filter clauses), newest first; the dataset's queue workflow is no run. */
export async function findRuns(client: Client, settings: TemporalSettings, dataset: string, where = ''): Promise<RunRow[]> {
  const rows: RunRow[] = [];
  const query = `${DATASET_KEY.name} = ${queryString(dataset)} AND WorkflowType != "datasetQueueWorkflow"${where ? ` AND ${where}` : ''}`;
  for await (const w of client.workflow.list({ query })) rows.push(row(settings, w));
  return rows.sort((a, b) => b.startTime.localeCompare(a.startTime));
}

/**
 * The search attributes a run sets on itself and its children. A run sets them only when it
 * was started with cdcflow's dataset attribute (the client leaves them out when the server
 * lacks them: CDCFLOW_SEARCH_ATTRIBUTES=off).
 */
import { TypedSearchAttributes } from '@temporalio/common';
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { OperationCounts } from '../activities/types';
import type { Mode } from '../config/types';
import {
  BUSINESS_DATE_KEY,
  DATASET_KEY,
  datasetRunSearchAttributes,
  DELETES_KEY,
  INSERTS_KEY,
  MODE_KEY,
  ROWS_KEY,
  TABLE_KEY,
  UNCHANGED_KEY,
  UPDATES_KEY,
} from './search-attributes';

/** This workflow was started with cdcflow's dataset attribute (a dataset run, or the dataset's queue). */
export function searchAttributesEnabled(): boolean {
  return workflowInfo().typedSearchAttributes.get(DATASET_KEY) !== undefined;
}

/** A dump's dataset run: the attributes a run started by hand has, when the queue has them. */
export function dumpRunAttributes(dataset: string, businessDate: string): TypedSearchAttributes | undefined {
  return searchAttributesEnabled() ? datasetRunSearchAttributes(dataset, businessDate) : undefined;
}

/** The business date of a scheduled run is known only once the run has derived it. */
export function recordBusinessDate(businessDate: string): void {
  if (searchAttributesEnabled()) upsertSearchAttributes([{ key: BUSINESS_DATE_KEY, value: businessDate }]);
}

/** A child table run's attributes: only cdcflow's own (never the schedule's system ones). */
export function tableRunAttributes(dataset: string, businessDate: string, table: string, mode: Mode): TypedSearchAttributes | undefined {
  if (!searchAttributesEnabled()) return undefined;
  return new TypedSearchAttributes([
    { key: DATASET_KEY, value: dataset },
    { key: BUSINESS_DATE_KEY, value: businessDate },
    { key: TABLE_KEY, value: table },
    { key: MODE_KEY, value: mode },
  ]);
}

/** Counts as integer attributes, so the UI can filter on them (`CdcflowDeletes > 1000`). */
export function recordCounts(counts: OperationCounts): void {
  if (!searchAttributesEnabled()) return;
  upsertSearchAttributes([
    { key: INSERTS_KEY, value: counts.I },
    { key: UPDATES_KEY, value: counts.U },
    { key: DELETES_KEY, value: counts.D },
    { key: UNCHANGED_KEY, value: counts.N },
    { key: ROWS_KEY, value: counts.I + counts.U + counts.N },
  ]);
}

/** The sum of several tables' counts. */
export function sumCounts(all: OperationCounts[]): OperationCounts {
  return all.reduce((sum, c) => ({ I: sum.I + c.I, U: sum.U + c.U, D: sum.D + c.D, X: sum.X + c.X, N: sum.N + c.N }), { I: 0, U: 0, D: 0, X: 0, N: 0 });
}

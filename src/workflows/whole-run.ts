/**
 * Which table runs take their stages in one activity (src/activities/run-table-stages.ts):
 * a file-source batch small enough that Temporal's round trips between stage activities cost
 * more than the stages' own work. Bigger batches run diff and write as their own activities.
 */
import type { TableConfig } from '../config/types';
import { bucketCount } from './buckets';

/** Batch rows up to which a table's diff and write run in the activity that planned and hashed it. */
export const WHOLE_RUN_MAX_ROWS = 100_000;

/** Bounds the rebase loop: each round means another run committed the table meanwhile. */
export const MAX_REBASES = 5;

/** The failure detail naming the stage, within the one activity, that failed. */
export interface InnerStageDetail {
  innerStage: string;
}

export function runsWhole(table: Pick<TableConfig, 'mode' | 'buckets'>, batchRows: number): boolean {
  return batchRows <= WHOLE_RUN_MAX_ROWS && bucketCount(table, batchRows) === 1;
}

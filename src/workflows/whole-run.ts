/**
 * Which table runs take their stages in one activity (src/activities/run-table-stages.ts):
 * a file-source batch of one key-hash bucket, whose diff could not run anywhere else in
 * parallel, so Temporal's round trips between stage activities would buy nothing. A batch of
 * several buckets runs their diffs as activities of their own (any worker) and then the write.
 */
import type { TableConfig } from '../config/types';
import { bucketCount } from './buckets';

/** Bounds the rebase loop: each round means another run committed the table meanwhile. */
export const MAX_REBASES = 5;

/** The failure detail naming the stage, within the one activity, that failed. */
export interface InnerStageDetail {
  innerStage: string;
}

export function runsWhole(table: Pick<TableConfig, 'mode' | 'buckets'>, batchRows: number): boolean {
  return bucketCount(table, batchRows) === 1;
}

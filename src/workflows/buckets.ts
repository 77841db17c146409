/** How many key-hash buckets a table run is split into (see engine/key-buckets.ts). */
import type { TableConfig } from '../config/types';
import type { Bucket } from '../engine/key-buckets';

/** Batch rows per bucket when the table sets no count: a bucket's diff and write fit a worker's default memory. */
export const ROWS_PER_BUCKET = 2_000_000;
const MAX_DEFAULT_BUCKETS = 64;

export function bucketCount(table: Pick<TableConfig, 'mode' | 'buckets'>, batchRows: number): number {
  // A change-record table's ordering state is not split by key hash.
  if (table.mode === 'changes') return 1;
  return table.buckets ?? Math.min(MAX_DEFAULT_BUCKETS, Math.max(1, Math.ceil(batchRows / ROWS_PER_BUCKET)));
}

/** The run's buckets; one run of one bucket is the whole table, named as before buckets existed. */
export function tableBuckets(count: number): (Bucket | undefined)[] {
  return count === 1 ? [undefined] : Array.from({ length: count }, (_, index) => ({ index, count }));
}

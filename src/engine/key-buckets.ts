/**
 * Key-hash buckets: a table's keys split into `count` ranges of KEY_HASH, so that the diff and
 * the write of one table run as several activities (on several workers). Bucket `index` holds
 * the hashes whose first 32 bits are in [index·2³²/count, (index+1)·2³²/count). UUIDs compare
 * as their text does, so the buckets in index order are the hashes in order: bucket files each
 * sorted by KEY_HASH, read in index order, are the whole state sorted by KEY_HASH.
 */

export interface Bucket {
  /** 0-based. */
  index: number;
  count: number;
}

/** The smallest hash of the bucket, as a UUID literal. */
function lowerBound(index: number, count: number): string {
  const prefix = Math.floor((index * 2 ** 32) / count).toString(16).padStart(8, '0');
  return `'${prefix}-0000-0000-0000-000000000000'::UUID`;
}

/** SQL condition selecting the bucket's rows by `column` (a KEY_HASH reference); null for the whole range. */
export function keyRangeSql(bucket: Bucket | undefined, column: string): string | null {
  if (!bucket || bucket.count === 1) return null;
  const { index, count } = bucket;
  if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || index >= count) throw new Error(`not a bucket: ${index} of ${count}`);
  const conditions = [];
  if (index > 0) conditions.push(`${column} >= ${lowerBound(index, count)}`);
  if (index < count - 1) conditions.push(`${column} < ${lowerBound(index + 1, count)}`);
  return conditions.join(' AND ');
}

/** How a bucket is named in files and activity summaries: `2of4` (1-based). */
export function bucketLabel(bucket: Bucket): string {
  return `${bucket.index + 1}of${bucket.count}`;
}

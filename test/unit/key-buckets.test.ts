import { bucketLabel, keyRangeSql } from '../../src/engine/key-buckets';
import { bucketCount, ROWS_PER_BUCKET, tableBuckets } from '../../src/workflows/buckets';

describe('key-hash buckets', () => {
  it('split the hashes into ranges that meet without gaps or overlap', () => {
    expect(keyRangeSql({ index: 0, count: 4 }, 'KEY_HASH')).toBe(`KEY_HASH < '40000000-0000-0000-0000-000000000000'::UUID`);
    expect(keyRangeSql({ index: 1, count: 4 }, 'KEY_HASH')).toBe(
      `KEY_HASH >= '40000000-0000-0000-0000-000000000000'::UUID AND KEY_HASH < '80000000-0000-0000-0000-000000000000'::UUID`,
    );
    expect(keyRangeSql({ index: 3, count: 4 }, 'KEY_HASH')).toBe(`KEY_HASH >= 'c0000000-0000-0000-0000-000000000000'::UUID`);
    for (let i = 0; i < 6; i++) {
      const upper = keyRangeSql({ index: i, count: 7 }, 'h')!.match(/h < ('[^']+')/)?.[1];
      const lower = keyRangeSql({ index: i + 1, count: 7 }, 'h')!.match(/h >= ('[^']+')/)?.[1];
      expect(upper).toBe(lower);
    }
  });

  it('select everything for one bucket, and refuse a bucket outside the count', () => {
    expect(keyRangeSql(undefined, 'KEY_HASH')).toBeNull();
    expect(keyRangeSql({ index: 0, count: 1 }, 'KEY_HASH')).toBeNull();
    expect(() => keyRangeSql({ index: 4, count: 4 }, 'KEY_HASH')).toThrow(/not a bucket/);
    expect(bucketLabel({ index: 1, count: 4 })).toBe('2of4');
  });

  it('come from the table setting, else from the batch size; change-record tables use one', () => {
    expect(bucketCount({ mode: 'full' }, 10)).toBe(1);
    expect(bucketCount({ mode: 'full' }, ROWS_PER_BUCKET * 5 - 1)).toBe(5);
    expect(bucketCount({ mode: 'delta', buckets: 4 }, 10)).toBe(4);
    expect(bucketCount({ mode: 'changes', buckets: 4 }, ROWS_PER_BUCKET * 5)).toBe(1);
    expect(tableBuckets(1)).toEqual([undefined]);
    expect(tableBuckets(2)).toEqual([
      { index: 0, count: 2 },
      { index: 1, count: 2 },
    ]);
  });
});

/** Fingerprints: what makes a committed stage reusable, and what makes stored hashes comparable. */
import { hashFingerprint, hashShape } from '../../src/activities/fingerprint';
import type { FileTableConfig } from '../../src/config/types';

const table = (over: Partial<FileTableConfig> = {}, source: Partial<FileTableConfig['source']> = {}): FileTableConfig => ({
  dataset: 'd',
  name: 't',
  mode: 'full',
  keys: [{ name: 'id', type: 'bigint' }],
  columns: [{ name: 'op', type: 'varchar' }],
  ignore: [],
  source: { format: 'json', path: '/in/{date}.json', csv: { header: true, delimiter: ',', quote: '"', nullString: '' }, extraColumns: 'ignore', missingColumns: 'refuse', extract: false, ...source },
  maxDeleteShare: 0.5,
  allowDeletes: false,
  warehouse: '/w',
  retention: { keepDates: 2 },
  ...over,
});
/** hashFingerprint(table(), files) as the code before missingColumns and source computed it. */
const PRE_FEATURE_FINGERPRINT = '2da163cf071bc6963f8a180a3075cfcd9eed1e11e3bfd642e6d4aaa981921b39';
// The modification time tells a file still being written; it is not part of what the batch is.
const files = [{ path: '/in/2024-01-01.json', size: 10, checksum: 'abc', modifiedMs: 1_700_000_000_000 }];

describe('fingerprints', () => {
  it('reading a column from another source column is another batch, of the same shape', () => {
    const renamed = table({ columns: [{ name: 'op', source: 'operation', type: 'varchar' }] });
    const otherSource = table({ columns: [{ name: 'op', source: 'OPERATION_CODE', type: 'varchar' }] });
    const fingerprints = new Set([table(), renamed, otherSource].map((t) => hashFingerprint(t, files)));
    expect(fingerprints.size).toBe(3);
    expect(hashShape(renamed)).toBe(hashShape(table()));
    expect(hashShape(otherSource)).toBe(hashShape(table()));
  });

  it('reading absent columns as NULL is another batch; refusing them, the default, keeps earlier fingerprints', () => {
    expect(hashFingerprint(table({}, { missingColumns: 'null' }), files)).not.toBe(hashFingerprint(table(), files));
    expect(hashShape(table({}, { missingColumns: 'null' }))).toBe(hashShape(table()));
    // Computed before missingColumns existed, for this very table and files.
    expect(hashFingerprint(table(), files)).toBe(PRE_FEATURE_FINGERPRINT);
  });

  it("a column's time zone is another batch, of the same shape", () => {
    const utc = table({ columns: [{ name: 'at', type: 'timestamptz' }] });
    const berlin = table({ columns: [{ name: 'at', type: 'timestamptz', timeZone: 'Europe/Berlin' }] });
    expect(hashFingerprint(berlin, files)).not.toBe(hashFingerprint(utc, files));
    expect(hashShape(berlin)).toBe(hashShape(utc));
  });

  it('a csv escape is another batch; without one, earlier fingerprints stay', () => {
    const csv = { header: true, delimiter: ',', quote: '"', nullString: '' };
    expect(hashFingerprint(table({}, { format: 'csv', csv: { ...csv, escape: '\\' } }), files)).not.toBe(hashFingerprint(table({}, { format: 'csv', csv }), files));
    expect(hashFingerprint(table({}, { csv: { ...csv, escape: undefined } }), files)).toBe(PRE_FEATURE_FINGERPRINT);
  });
});

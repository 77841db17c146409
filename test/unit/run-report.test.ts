/** The `run` table: event columns appear when a change-record table ran, with `-` for the others. */
import { formatRunReport } from '../../src/cli/report';
import type { TableRunResult } from '../../src/workflows/table-workflow';

const result = (table: string, more: Partial<TableRunResult>): TableRunResult => ({
  table,
  mode: 'full',
  businessDate: '2024-01-02',
  baseDate: '2024-01-01',
  counts: { I: 1, U: 2, D: 3, X: 0, N: 4 },
  currentRows: 7,
  historyRows: 6,
  currentPath: `/w/${table}/current.parquet`,
  historyPath: `/w/${table}/history/eff_start_date=2024-01-02/data.parquet`,
  durationMs: 1200,
  skippedStages: [],
  rebases: 0,
  ...more,
});

describe('run report', () => {
  it('adds events, stale and duplicates for change-record tables', () => {
    const text = formatRunReport({
      dataset: 'shop',
      businessDate: '2024-01-02',
      tables: [
        { table: 'records', status: 'completed', result: result('records', {}) },
        {
          table: 'events',
          status: 'completed',
          result: result('events', { mode: 'changes', changes: { events: 11, inserts: 5, updates: 4, deletes: 2, duplicates: 1, stale: 3 } }),
        },
        { table: 'broken', status: 'failed', error: 'DataError: no' },
      ],
    });
    expect(text.split('\n').slice(0, 5)).toEqual([
      'shop 2024-01-02',
      'table       mode  I  U  D  X  N  current  history  events  stale  dup  seconds',
      'records     full  1  2  3  0  4        7        6       -      -    -      1.2',
      'events   changes  1  2  3  0  4        7        6      11      3    1      1.2',
      'broken    FAILED  -  -  -  -  -        -        -       -      -    -        -',
    ]);
  });

  it('says when the retention pass after the tables failed, and that their commits stand', () => {
    const text = formatRunReport({
      dataset: 'shop',
      businessDate: '2024-01-02',
      tables: [{ table: 'records', status: 'completed', result: result('records', {}) }],
      retentionError: 'IO Error: Permission denied',
    });
    expect(text.split('\n').at(-1)).toBe("  retention: FAILED: IO Error: Permission denied (the tables' commits stand; the next run expires what this one could not)");
  });

  it('keeps the snapshot table as it was when no change-record table ran', () => {
    const text = formatRunReport({ dataset: 'shop', businessDate: '2024-01-02', tables: [{ table: 'records', status: 'completed', result: result('records', {}) }] });
    expect(text.split('\n')[1]).toBe('table    mode  I  U  D  X  N  current  history  seconds');
  });
});

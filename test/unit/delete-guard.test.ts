/** The mass-delete guard decides from counts alone. */
import { evaluateDeleteGuard, type DeleteGuardInput, guardDiff, refusalMessage } from '../../src/workflows/delete-guard';

const base: DeleteGuardInput = { mode: 'full', batchRows: 10, baseKeys: 10, deletes: 0, maxDeleteShare: 0.5, allowDeletes: false };

describe('delete guard', () => {
  it('passes an ordinary snapshot and a delete of exactly the allowed share', () => {
    expect(evaluateDeleteGuard(base)).toEqual({ verdict: 'pass' });
    expect(evaluateDeleteGuard({ ...base, batchRows: 5, deletes: 5 })).toEqual({ verdict: 'pass' });
  });

  it('refuses a full snapshot with no rows, with the number of keys it would delete', () => {
    expect(evaluateDeleteGuard({ ...base, batchRows: 0, deletes: 10 })).toEqual({
      verdict: 'refuse',
      reason: 'the full snapshot has no rows; applying it would delete all 10 keys of the current state',
    });
    // Even on a first run: an empty export is not a table.
    expect(evaluateDeleteGuard({ ...base, batchRows: 0, baseKeys: 0 })).toEqual({
      verdict: 'refuse',
      reason: 'the full snapshot has no rows, and the table has no committed rows yet: an empty export is almost always a broken one',
    });
  });

  it('refuses deleting more than the share, giving the counts', () => {
    expect(evaluateDeleteGuard({ ...base, batchRows: 4, deletes: 6 })).toEqual({
      verdict: 'refuse',
      reason: 'the full snapshot would delete 6 of 10 keys (60%), more than maxDeleteShare 0.5 (50%)',
    });
    expect(evaluateDeleteGuard({ ...base, batchRows: 3, deletes: 1, baseKeys: 3, maxDeleteShare: 0.3 }).verdict).toBe('refuse');
  });

  it('lets a refused batch through when deletes are allowed, keeping the reason for the memo', () => {
    expect(evaluateDeleteGuard({ ...base, batchRows: 4, deletes: 6, allowDeletes: true })).toEqual({
      verdict: 'override',
      reason: 'the full snapshot would delete 6 of 10 keys (60%), more than maxDeleteShare 0.5 (50%)',
    });
  });

  it('never applies to a delta, which deletes nothing', () => {
    expect(evaluateDeleteGuard({ ...base, mode: 'delta', batchRows: 0, deletes: 0 })).toEqual({ verdict: 'pass' });
  });

  it('maxDeleteShare 1 allows deleting every key of a non-empty snapshot', () => {
    expect(evaluateDeleteGuard({ ...base, batchRows: 2, baseKeys: 10, deletes: 10, maxDeleteShare: 1 })).toEqual({ verdict: 'pass' });
  });

  it('judges a diff from its counts: the base keys are D + X + U + N, inserts aside', () => {
    const table = { mode: 'full' as const, maxDeleteShare: 0.5 };
    expect(guardDiff(table, 4, { I: 100, D: 6, U: 1, N: 3 }, false)).toEqual(evaluateDeleteGuard({ ...base, batchRows: 4, baseKeys: 10, deletes: 6 }));
    expect(guardDiff(table, 4, { D: 5, N: 5 }, false)).toEqual({ verdict: 'pass' });
    expect(guardDiff(table, 0, { D: 2 }, false)).toEqual({ verdict: 'refuse', reason: 'the full snapshot has no rows; applying it would delete all 2 keys of the current state' });
    expect(guardDiff(table, 4, { D: 6, N: 4 }, true).verdict).toBe('override');
  });

  it('a refusal says nothing was written, how to let it through, and where', () => {
    expect(refusalMessage('the reason', { dataset: 'd', name: 't' }, '2024-01-02')).toBe(
      'the reason; nothing was written. If this is intended, run again with --allow-deletes, or set allowDeletes or maxDeleteShare in the config. (dataset=d table=t businessDate=2024-01-02)',
    );
  });
});

/**
 * The mass-delete guard: a full snapshot with no rows, or one that would delete more than a
 * share of the current keys, is almost always a broken export rather than the truth. Pure, so
 * workflow code can call it, from counts the stages already returned.
 */
import type { OperationCounts } from '../activities/types';
import type { Mode, TableConfig } from '../config/types';

export interface DeleteGuardInput {
  mode: Mode;
  /** Rows in the batch. */
  batchRows: number;
  /** Keys in the base state (D + X + U + N). */
  baseKeys: number;
  /** Keys the run would delete (D). */
  deletes: number;
  maxDeleteShare: number;
  /** The run or the config lets deletes through. */
  allowDeletes: boolean;
}

export type DeleteGuardVerdict =
  | { verdict: 'pass' }
  | { verdict: 'refuse'; reason: string }
  /** What would have been refused, applied because deletes were allowed. */
  | { verdict: 'override'; reason: string };

function refusal(g: DeleteGuardInput): string | undefined {
  if (g.mode !== 'full') return undefined;
  if (g.batchRows === 0) {
    // A first date loses nothing, but an empty export is still almost always a broken one.
    if (g.baseKeys === 0) return 'the full snapshot has no rows, and the table has no committed rows yet: an empty export is almost always a broken one';
    return `the full snapshot has no rows; applying it would delete all ${g.baseKeys} keys of the current state`;
  }
  if (g.baseKeys > 0 && g.deletes / g.baseKeys > g.maxDeleteShare) {
    const percent = (n: number) => `${Math.round(n * 1000) / 10}%`;
    return (
      `the full snapshot would delete ${g.deletes} of ${g.baseKeys} keys (${percent(g.deletes / g.baseKeys)}), ` +
      `more than maxDeleteShare ${g.maxDeleteShare} (${percent(g.maxDeleteShare)})`
    );
  }
  return undefined;
}

export function evaluateDeleteGuard(g: DeleteGuardInput): DeleteGuardVerdict {
  const reason = refusal(g);
  if (!reason) return { verdict: 'pass' };
  return g.allowDeletes ? { verdict: 'override', reason } : { verdict: 'refuse', reason };
}

/** How to let a refused batch through, for the refusal's message. */
export const DELETE_GUARD_OVERRIDE_HINT = 'If this is intended, run again with --allow-deletes, or set allowDeletes or maxDeleteShare in the config.';

/** The verdict on a run from its diff's counts (all buckets' together). */
export function guardDiff(table: Pick<TableConfig, 'mode' | 'maxDeleteShare'>, batchRows: number, counts: Partial<OperationCounts>, allowDeletes: boolean): DeleteGuardVerdict {
  const n = (op: keyof OperationCounts) => counts[op] ?? 0;
  return evaluateDeleteGuard({
    mode: table.mode,
    batchRows,
    baseKeys: n('D') + n('X') + n('U') + n('N'),
    deletes: n('D'),
    maxDeleteShare: table.maxDeleteShare,
    allowDeletes,
  });
}

/** The refused run's failure message. */
export function refusalMessage(reason: string, table: Pick<TableConfig, 'dataset' | 'name'>, businessDate: string): string {
  return `${reason}; nothing was written. ${DELETE_GUARD_OVERRIDE_HINT} (dataset=${table.dataset} table=${table.name} businessDate=${businessDate})`;
}

/**
 * Before the stages: which committed date the run diffs against. Runs go forward in time; a
 * date older than the latest committed one would rewrite history that later dates built on.
 */
import { StateError } from '../errors';
import { committedDates, readCommit } from '../warehouse/commits';
import { tableLayout } from '../warehouse/layout';
import { hashShape } from './fingerprint';
import { type ActivityDeps, runStage } from './stage-runner';
import type { PlanResult, StageInput } from './types';

export function planTableRun(deps: ActivityDeps) {
  return ({ table, businessDate }: StageInput): Promise<PlanResult> =>
    runStage(deps, 'plan', async () => {
      const layout = tableLayout(table.warehouse, table.dataset, table.name);
      const dates = await committedDates(layout);
      const latestCommitted = dates.at(-1) ?? null;
      const context = { dataset: table.dataset, table: table.name, businessDate };
      if (latestCommitted && businessDate < latestCommitted) {
        throw new StateError(
          `business date ${businessDate} is older than the latest committed date ${latestCommitted}; runs must go forward in time`,
          { ...context, latestCommitted },
        );
      }
      const baseDate = dates.filter((d) => d < businessDate).at(-1);
      if (!baseDate) return { base: null, latestCommitted };
      const commit = (await readCommit(layout, baseDate))!;
      if (commit.shape !== hashShape(table)) {
        throw new StateError(
          `the table's keys, columns, types or ignore list changed since ${baseDate}, so stored hashes no longer compare; ` +
            'restore the config or start a new warehouse',
          { ...context, baseDate },
        );
      }
      return { base: { date: baseDate, fingerprint: commit.fingerprint }, latestCommitted };
    });
}

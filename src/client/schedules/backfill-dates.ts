/**
 * `schedule backfill`: past business dates, one after another in date order, each run waited
 * for before the next starts, so two runs of the dataset never overlap. Runs are started from
 * the client (not with the Schedule's own backfill) because which scheduled times map to which
 * business dates depends on the spec; the dates are what the operator means. The dataset's
 * Schedules are paused meanwhile (and unpaused after) so none starts a run in between.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { DatasetConfig, Mode } from '../../config/types';
import { ConfigError } from '../../errors';
import type { TemporalSettings } from '../../settings';
import type { DatasetRunResult, datasetWorkflow } from '../../workflows';
import { checkedDate } from '../checked-date';
import { runFailure } from '../run-failure';
import { startDatasetRun } from '../start-run';
import { describeDatasetSchedules } from './list-schedules';
import { pauseSchedule } from './pause-schedule';
import { unpauseSchedule } from './unpause-schedule';

/** Every date from `from` to `to`, both included. */
export function datesBetween(from: string, to: string): string[] {
  checkedDate('--from', from);
  checkedDate('--to', to);
  if (from > to) throw new ConfigError(`--from ${from} is after --to ${to}`);
  const dates: string[] = [];
  for (let d = new Date(`${from}T00:00:00Z`); d.toISOString().slice(0, 10) <= to; d.setUTCDate(d.getUTCDate() + 1)) {
    dates.push(d.toISOString().slice(0, 10));
  }
  return dates;
}

const BACKFILL_PAUSE_NOTE = 'paused by cdcflow schedule backfill';

export interface BackfilledDate {
  businessDate: string;
  workflowId: string;
  ok: boolean;
  run?: DatasetRunResult;
  error?: string;
}

export async function backfillDates(
  client: Client,
  settings: TemporalSettings,
  config: DatasetConfig,
  options: {
    from: string;
    to: string;
    mode?: Mode;
    onDate?: (done: BackfilledDate) => void;
    /** Shows a date's run while it is awaited (run's progress line); returns how to stop. */
    watch?: (run: WorkflowHandle<typeof datasetWorkflow>) => () => Promise<void>;
  },
): Promise<BackfilledDate[]> {
  const dates = datesBetween(options.from, options.to);
  // A backfill stopped midway (Ctrl-C) left its pause: this one takes it over, so it ends.
  // Each schedule's own state, not the list's, which may not show an operator's pause yet.
  const paused = (await describeDatasetSchedules(client, config)).filter((s) => !s.state.paused || s.state.note === BACKFILL_PAUSE_NOTE).map((s) => s.scheduleId);
  for (const id of paused) await pauseSchedule(client, id, BACKFILL_PAUSE_NOTE);
  const done: BackfilledDate[] = [];
  try {
    for (const businessDate of dates) {
      const { handle } = await startDatasetRun(client, settings, { config, businessDate, ...(options.mode ? { mode: options.mode } : {}) });
      const stopWatching = options.watch?.(handle);
      const outcome: BackfilledDate = await handle.result().then(
        (run) => ({ businessDate, workflowId: handle.workflowId, ok: true, run }),
        (err: unknown) => ({ businessDate, workflowId: handle.workflowId, ok: false, ...runFailure(err) }),
      );
      await stopWatching?.();
      done.push(outcome);
      options.onDate?.(outcome);
      // A later date would diff against a base that misses this one.
      if (!outcome.ok) break;
    }
  } finally {
    for (const id of paused) await unpauseSchedule(client, id, 'unpaused after cdcflow schedule backfill');
  }
  return done;
}

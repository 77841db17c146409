/**
 * The Temporal Schedule a config's schedule entry stands for, and a fingerprint of it. The
 * fingerprint is kept in the scheduled action's memo, so `schedule apply` compares it instead
 * of the server's normalised form of the spec and changes only what the config changed.
 */
import { createHash } from 'node:crypto';
import type { ScheduleOptions, ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { type Duration, TypedSearchAttributes } from '@temporalio/common';
import type { DatasetConfig, ScheduleConfig } from '../../config/types';
import type { TemporalSettings } from '../../settings';
import { type datasetWorkflow, type DatasetWorkflowInput } from '../../workflows';
import { DATASET_KEY } from '../../workflows/search-attributes';
import { scheduleId, scheduledWorkflowIdBase } from './schedule-ids';

/** Memo key of the action that holds the fingerprint. */
export const FINGERPRINT_MEMO = 'cdcflowSchedule';
/** Memo key of the action that holds the config's `paused`, so an apply can tell the config's pause from an operator's. */
export const PAUSED_MEMO = 'cdcflowSchedulePaused';

export interface DesiredSchedule {
  scheduleId: string;
  fingerprint: string;
  options: ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof datasetWorkflow>>;
}

export function desiredSchedule(config: DatasetConfig, schedule: ScheduleConfig, settings: TemporalSettings): DesiredSchedule {
  const input: DatasetWorkflowInput = {
    // Without the schedules: a change to one schedule must not count as a change to the others.
    config: { ...config, schedules: [] },
    schedule: { timeZone: schedule.timeZone, businessDateOffsetDays: schedule.businessDateOffsetDays },
    ...(schedule.mode ? { mode: schedule.mode } : {}),
  };
  const spec = {
    cronExpressions: schedule.cron,
    // The config's durations (`15m`, `1d`) are checked by the schema to be in this format.
    intervals: schedule.every ? [{ every: schedule.every as Duration }] : [],
    timezone: schedule.timeZone,
  };
  const policies = {
    overlap: schedule.overlap === 'skip' ? ScheduleOverlapPolicy.SKIP : ScheduleOverlapPolicy.BUFFER_ONE,
    catchupWindow: schedule.catchupWindow as Duration,
  };
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ input, spec, policies, paused: schedule.paused, taskQueue: settings.taskQueue, searchAttributes: settings.searchAttributes }))
    .digest('hex')
    .slice(0, 16);
  const id = scheduleId(config.dataset, schedule.name);
  return {
    scheduleId: id,
    fingerprint,
    options: {
      scheduleId: id,
      spec,
      policies,
      state: { paused: schedule.paused, note: schedule.paused ? 'paused in the config' : undefined },
      action: {
        type: 'startWorkflow',
        workflowType: 'datasetWorkflow',
        workflowId: scheduledWorkflowIdBase(config.dataset, schedule.name),
        taskQueue: settings.taskQueue,
        args: [input],
        memo: { [FINGERPRINT_MEMO]: fingerprint, [PAUSED_MEMO]: schedule.paused },
        typedSearchAttributes: settings.searchAttributes ? new TypedSearchAttributes([{ key: DATASET_KEY, value: config.dataset }]) : undefined,
      },
    },
  };
}

/**
 * Makes a dataset's Temporal Schedules match its config: creates the missing, updates the
 * changed (their fingerprint differs), deletes those the config no longer has, and leaves the
 * rest alone, so applying twice changes nothing the second time.
 */
import type { Client } from '@temporalio/client';
import type { DatasetConfig } from '../../config/types';
import type { TemporalSettings } from '../../settings';
import { assertNoClockChangeGaps } from './clock-changes';
import { desiredSchedule, FINGERPRINT_MEMO, PAUSED_MEMO } from './desired-schedule';
import { describeSchedule, listDatasetSchedules } from './list-schedules';

export interface ScheduleChange {
  scheduleId: string;
  change: 'created' | 'updated' | 'unchanged' | 'deleted';
}

export async function applySchedules(client: Client, settings: TemporalSettings, config: DatasetConfig): Promise<ScheduleChange[]> {
  const changes: ScheduleChange[] = [];
  const wanted = config.schedules.map((s) => ({ ...desiredSchedule(config, s, settings), paused: s.paused, schedule: s }));
  for (const desired of wanted) {
    const handle = client.schedule.getHandle(desired.scheduleId);
    const current = await describeSchedule(client, desired.scheduleId);
    const unchanged = current?.action.type === 'startWorkflow' && current.action.memo?.[FINGERPRINT_MEMO] === desired.fingerprint;
    if (!unchanged) await assertNoClockChangeGaps(client, desired, desired.schedule, config.dataset);
    if (!current) {
      await client.schedule.create(desired.options);
      changes.push({ scheduleId: desired.scheduleId, change: 'created' });
    } else if (unchanged) {
      changes.push({ scheduleId: desired.scheduleId, change: 'unchanged' });
    } else {
      const { spec, policies, state, action } = desired.options;
      // The config's paused applies when it changed; else the schedule stays as it is (an operator's pause, a backfill's).
      const pausedChanged = current.action.type !== 'startWorkflow' || current.action.memo?.[PAUSED_MEMO] !== desired.paused;
      await handle.update((previous) => ({ ...previous, spec, policies, action, state: pausedChanged ? { ...previous.state, ...state } : previous.state }));
      changes.push({ scheduleId: desired.scheduleId, change: 'updated' });
    }
  }
  const keep = new Set(wanted.map((w) => w.scheduleId));
  for (const existing of await listDatasetSchedules(client, config.dataset)) {
    if (keep.has(existing.scheduleId)) continue;
    await client.schedule.getHandle(existing.scheduleId).delete();
    changes.push({ scheduleId: existing.scheduleId, change: 'deleted' });
  }
  return changes;
}

/** A dataset's Schedules as the server has them. */
import { type Client, type ScheduleDescription, ScheduleNotFoundError, type ScheduleSummary } from '@temporalio/client';
import type { DatasetConfig } from '../../config/types';
import { scheduleId, scheduleIdPrefix } from './schedule-ids';

export async function listDatasetSchedules(client: Client, dataset: string): Promise<ScheduleSummary[]> {
  const prefix = scheduleIdPrefix(dataset);
  const found: ScheduleSummary[] = [];
  for await (const schedule of client.schedule.list()) {
    if (schedule.scheduleId.startsWith(prefix)) found.push(schedule);
  }
  return found.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

/** The schedule's own description (its current state), or undefined when the server has no such schedule. */
export async function describeSchedule(client: Client, id: string): Promise<ScheduleDescription | undefined> {
  return client.schedule
    .getHandle(id)
    .describe()
    .catch((err: unknown) => {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    });
}

/**
 * The dataset's Schedules, each as its own description has it. The list comes from the server's
 * visibility store, which lags: a pause or unpause just made shows there later, and a schedule
 * just created may be missing, so the config's schedules are described too.
 */
export async function describeDatasetSchedules(client: Client, config: DatasetConfig): Promise<ScheduleDescription[]> {
  const listed = (await listDatasetSchedules(client, config.dataset)).map((s) => s.scheduleId);
  const ids = [...new Set([...listed, ...config.schedules.map((s) => scheduleId(config.dataset, s.name))])].sort();
  const described = await Promise.all(ids.map((id) => describeSchedule(client, id)));
  return described.filter((d): d is ScheduleDescription => d !== undefined);
}

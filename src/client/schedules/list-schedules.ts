/** A dataset's Schedules as the server has them. */
import type { Client, ScheduleSummary } from '@temporalio/client';
import { scheduleIdPrefix } from './schedule-ids';

export async function listDatasetSchedules(client: Client, dataset: string): Promise<ScheduleSummary[]> {
  const prefix = scheduleIdPrefix(dataset);
  const found: ScheduleSummary[] = [];
  for await (const schedule of client.schedule.list()) {
    if (schedule.scheduleId.startsWith(prefix)) found.push(schedule);
  }
  return found.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

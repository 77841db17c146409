import type { Client } from '@temporalio/client';

/** Deletes the Schedule; runs it already started go on. */
export async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).delete();
}

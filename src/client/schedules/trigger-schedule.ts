import { type Client, ScheduleOverlapPolicy } from '@temporalio/client';

/**
 * Starts the Schedule's action now; its business date derives from now (the scheduled time
 * of a triggered action). A run still going makes it wait (buffered), never run alongside.
 */
export async function triggerSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.BUFFER_ONE);
}

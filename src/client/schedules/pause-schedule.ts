import type { Client } from '@temporalio/client';

/** Stops the Schedule from starting runs until unpaused; the note shows in the UI. */
export async function pauseSchedule(client: Client, scheduleId: string, note = 'paused with cdcflow schedule pause'): Promise<void> {
  await client.schedule.getHandle(scheduleId).pause(note);
}

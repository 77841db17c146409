import type { Client } from '@temporalio/client';

export async function unpauseSchedule(client: Client, scheduleId: string, note = 'unpaused with cdcflow schedule unpause'): Promise<void> {
  await client.schedule.getHandle(scheduleId).unpause(note);
}

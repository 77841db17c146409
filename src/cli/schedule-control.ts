/** `schedule pause|unpause|trigger|delete`: one operation on the named Schedule, or on all of the dataset's. */
import type { Client } from '@temporalio/client';
import { Command } from 'commander';
import { deleteSchedule } from '../client/schedules/delete-schedule';
import { listDatasetSchedules } from '../client/schedules/list-schedules';
import { pauseSchedule } from '../client/schedules/pause-schedule';
import { scheduleId } from '../client/schedules/schedule-ids';
import { triggerSchedule } from '../client/schedules/trigger-schedule';
import { unpauseSchedule } from '../client/schedules/unpause-schedule';
import { withClient } from '../client/with-client';
import { loadConfig } from '../config/load';
import { temporalSettings } from '../settings';

const OPERATIONS = {
  pause: { done: 'paused', describe: 'stop starting runs until unpaused', run: (c: Client, id: string) => pauseSchedule(c, id) },
  unpause: { done: 'unpaused', describe: 'start runs again', run: (c: Client, id: string) => unpauseSchedule(c, id) },
  trigger: { done: 'triggered', describe: 'start a run now (business date from now)', run: triggerSchedule },
  delete: { done: 'deleted', describe: 'delete (runs already started go on)', run: deleteSchedule },
} as const;

export function scheduleControlCommand(operation: keyof typeof OPERATIONS): Command {
  const op = OPERATIONS[operation];
  return new Command(operation)
    .description(`${op.describe}: the named schedule, or all of the dataset's`)
    .requiredOption('--config <file>', 'dataset config (YAML)')
    .option('--name <schedule>', "the schedule's name in the config")
    .action(async (opts: { config: string; name?: string }) => {
      const config = loadConfig(opts.config);
      const settings = temporalSettings();
      await withClient(settings, async (client) => {
        const ids = opts.name ? [scheduleId(config.dataset, opts.name)] : (await listDatasetSchedules(client, config.dataset)).map((s) => s.scheduleId);
        for (const id of ids) {
          await op.run(client, id);
          process.stdout.write(`${op.done} ${id}\n`);
        }
        if (ids.length === 0) process.stdout.write(`${config.dataset} has no schedules on the server\n`);
      });
    });
}

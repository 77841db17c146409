/** `schedule pause|unpause|trigger|delete`: one operation on the named Schedule, or on all of the dataset's. */
import { type Client, ScheduleNotFoundError } from '@temporalio/client';
import { Command } from 'commander';
import { deleteSchedule } from '../client/schedules/delete-schedule';
import { describeDatasetSchedules, listDatasetSchedules } from '../client/schedules/list-schedules';
import { pauseSchedule } from '../client/schedules/pause-schedule';
import { scheduleId, scheduleIdPrefix } from '../client/schedules/schedule-ids';
import { triggerSchedule } from '../client/schedules/trigger-schedule';
import { unpauseSchedule } from '../client/schedules/unpause-schedule';
import { withClient } from '../client/with-client';
import { loadConfig } from '../config/load';
import type { DatasetConfig } from '../config/types';
import { ConfigError } from '../errors';
import { temporalSettings } from '../settings';

type Operation = (client: Client, id: string) => Promise<void>;

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
        if (opts.name) {
          await runOnNamed(client, config, opts.name, op.run);
          process.stdout.write(`${op.done} ${scheduleId(config.dataset, opts.name)}\n`);
          return;
        }
        const ids = (await listDatasetSchedules(client, config.dataset)).map((s) => s.scheduleId);
        for (const id of ids) {
          await op.run(client, id);
          process.stdout.write(`${op.done} ${id}\n`);
        }
        if (ids.length === 0) process.stdout.write(`${config.dataset} has no schedules on the server\n`);
      });
    });
}

/** Runs the operation on the dataset's schedule `name`; one the server lacks is refused, naming those it has. */
async function runOnNamed(client: Client, config: DatasetConfig, name: string, run: Operation): Promise<void> {
  try {
    await run(client, scheduleId(config.dataset, name));
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    const prefix = scheduleIdPrefix(config.dataset);
    const there = (await describeDatasetSchedules(client, config)).map((s) => s.scheduleId.slice(prefix.length));
    throw new ConfigError(
      `--name: ${config.dataset} has no schedule ${name} on the server (schedules there: ${there.join(', ') || 'none'}; cdcflow schedule apply creates the config's)`,
    );
  }
}

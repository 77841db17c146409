import { Command } from 'commander';
import { scheduleApplyCommand } from './schedule-apply';
import { scheduleBackfillCommand } from './schedule-backfill';
import { scheduleControlCommand } from './schedule-control';
import { scheduleListCommand } from './schedule-list';

export function scheduleCommand(): Command {
  return new Command('schedule')
    .description("a dataset's Temporal Schedules: apply the config's, list, pause, unpause, trigger, delete, backfill")
    .addCommand(scheduleApplyCommand())
    .addCommand(scheduleListCommand())
    .addCommand(scheduleControlCommand('pause'))
    .addCommand(scheduleControlCommand('unpause'))
    .addCommand(scheduleControlCommand('trigger'))
    .addCommand(scheduleControlCommand('delete'))
    .addCommand(scheduleBackfillCommand());
}

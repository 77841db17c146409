import { Command } from 'commander';
import { applySchedules } from '../client/schedules/apply-schedules';
import { withClient } from '../client/with-client';
import { loadConfig } from '../config/load';
import { temporalSettings } from '../settings';

export function scheduleApplyCommand(): Command {
  return new Command('apply')
    .description("make the dataset's Temporal Schedules match the config: create, update, delete (a second run changes nothing)")
    .requiredOption('--config <file>', 'dataset config (YAML)')
    .option('--input <dir>', 'folder that relative source paths resolve against in scheduled runs')
    .action(async (opts: { config: string; input?: string }) => {
      const config = loadConfig(opts.config, { inputDir: opts.input });
      const settings = temporalSettings();
      const changes = await withClient(settings, (client) => applySchedules(client, settings, config));
      if (changes.length === 0) process.stdout.write(`${config.dataset} has no schedules, and none on the server\n`);
      for (const c of changes) process.stdout.write(`${c.change.padEnd(9)} ${c.scheduleId}\n`);
    });
}

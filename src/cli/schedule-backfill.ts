import { Command } from 'commander';
import { watchProgress } from '../client/progress';
import { backfillDates } from '../client/schedules/backfill-dates';
import { withClient } from '../client/with-client';
import { loadConfig } from '../config/load';
import { ConfigError } from '../errors';
import { temporalSettings } from '../settings';
import { formatRunReport } from './report';

interface BackfillOptions {
  config: string;
  from: string;
  to: string;
  input?: string;
  name?: string;
}

export function scheduleBackfillCommand(): Command {
  return new Command('backfill')
    .description("run past business dates in date order, one at a time (the dataset's schedules are paused meanwhile); stops at the first failure")
    .requiredOption('--config <file>', 'dataset config (YAML)')
    .requiredOption('--from <YYYY-MM-DD>', 'first business date')
    .requiredOption('--to <YYYY-MM-DD>', 'last business date')
    .option('--input <dir>', 'folder that relative source paths resolve against')
    .option('--name <schedule>', "use this schedule's table mode")
    .action(async (opts: BackfillOptions) => {
      const config = loadConfig(opts.config, { inputDir: opts.input });
      const schedule = opts.name ? config.schedules.find((s) => s.name === opts.name) : undefined;
      if (opts.name && !schedule) throw new ConfigError(`--name: ${config.dataset} has no schedule ${opts.name} (schedules: ${config.schedules.map((s) => s.name).join(', ') || 'none'})`);
      const settings = temporalSettings();
      const done = await withClient(settings, (client) =>
        backfillDates(client, settings, config, {
          from: opts.from,
          to: opts.to,
          mode: schedule?.mode,
          // Each date's run shows the progress line of `run` (a missing worker, the stage, a wait).
          watch: (run) => watchProgress(client, settings, run, { quiet: false }),
          onDate: (d) => {
            if (d.run) process.stdout.write(`${formatRunReport(d.run)}\n`);
            if (!d.ok) process.stderr.write(`${d.businessDate} failed: ${d.error}\n`);
          },
        }),
      );
      process.exitCode = done.every((d) => d.ok) ? 0 : 1;
    });
}

import { Command } from 'commander';
import { calendarText } from '../client/schedules/calendar-text';
import { describeDatasetSchedules } from '../client/schedules/list-schedules';
import { withClient } from '../client/with-client';
import { durationText } from '../config/duration';
import { loadConfig } from '../config/load';
import { temporalSettings } from '../settings';

export function scheduleListCommand(): Command {
  return new Command('list')
    .description("the dataset's Schedules: spec, paused or not, next and recent runs")
    .requiredOption('--config <file>', 'dataset config (YAML)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts: { config: string; json?: boolean }) => {
      const config = loadConfig(opts.config);
      const settings = temporalSettings();
      // Each schedule's own description: the server's list lags behind a pause just made.
      const schedules = await withClient(settings, (client) => describeDatasetSchedules(client, config));
      const rows = schedules.map((s) => ({
        scheduleId: s.scheduleId,
        paused: s.state.paused,
        note: s.state.note,
        cron: s.spec.calendars?.map(calendarText),
        intervals: s.spec.intervals?.map((i) => durationText(Number(i.every))),
        timeZone: s.spec.timezone,
        nextRuns: s.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()),
        recentRuns: s.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId })),
      }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ dataset: config.dataset, schedules: rows })}\n`);
        return;
      }
      if (rows.length === 0) process.stdout.write(`${config.dataset} has no schedules on the server\n`);
      for (const r of rows) {
        const when = [...(r.cron ?? []).map((c) => `cron "${c}"`), ...(r.intervals ?? []).map((i) => `every ${i}`)];
        process.stdout.write(
          `${r.scheduleId}${r.paused ? `  PAUSED${r.note ? ` (${r.note})` : ''}` : ''}\n` +
            `  ${when.join(', ') || '-'}  time zone ${r.timeZone ?? 'UTC'}\n` +
            `  next: ${r.nextRuns.join(', ') || '-'}\n` +
            `  recent: ${r.recentRuns.map((a) => `${a.scheduledAt} ${a.workflowId}`).join('; ') || '-'}\n`,
        );
      }
    });
}

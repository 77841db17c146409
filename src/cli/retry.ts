import { Command } from 'commander';
import { failedTables, tableRunStates } from '../client/failed-tables';
import { runFailure } from '../client/run-failure';
import { checkedDate } from '../client/checked-date';
import { startDatasetRun } from '../client/start-run';
import { withClient } from '../client/with-client';
import { loadConfig } from '../config/load';
import { ConfigError } from '../errors';
import { runUrl, temporalSettings } from '../settings';
import { tableList } from './options';
import { formatRunReport } from './report';

interface RetryOptions {
  config: string;
  date: string;
  input?: string;
  tables?: string;
}

export function retryCommand(): Command {
  return new Command('retry')
    .description('re-run the tables of a business date whose last run failed (after fixing the cause), and wait for them')
    .requiredOption('--config <file>', 'dataset config (YAML)')
    .requiredOption('--date <YYYY-MM-DD>', 'business date of the failed run')
    .option('--input <dir>', 'folder that relative source paths resolve against')
    .option('--tables <a,b>', 'only these of the failed tables')
    .action(async (opts: RetryOptions) => {
      process.exitCode = await retry(opts);
    });
}

async function retry(opts: RetryOptions): Promise<number> {
  checkedDate('--date', opts.date);
  const config = loadConfig(opts.config, { inputDir: opts.input });
  const named = tableList(config, opts.tables);
  const settings = temporalSettings();
  return withClient(settings, async (client) => {
    const failed = failedTables(await tableRunStates(client, config, opts.date));
    const notFailed = (named ?? []).filter((t) => !failed.some((f) => f.table === t));
    if (notFailed.length > 0) {
      throw new ConfigError(`${notFailed.join(', ')} did not fail on ${opts.date} (failed: ${failed.map((f) => f.table).join(', ') || 'none'}); use cdcflow run --tables to run a table again`);
    }
    const chosen = failed.filter((f) => !named || named.includes(f.table));
    if (chosen.length === 0) {
      process.stdout.write(`nothing to retry: no table of ${config.dataset} failed on ${opts.date}\n`);
      return 0;
    }
    // Keep a schedule's mode override: the tables re-run as they ran.
    const modes = new Set(chosen.map((f) => f.mode));
    const mode = modes.size === 1 ? [...modes][0] : undefined;
    const tables = chosen.map((f) => f.table);
    const { handle, runId } = await startDatasetRun(client, settings, { config, businessDate: opts.date, tables, ...(mode ? { mode } : {}) });
    process.stderr.write(`retrying ${tables.join(', ')} of ${config.dataset} ${opts.date}: ${handle.workflowId}\n  ${runUrl(settings, handle.workflowId, runId)}\n`);
    try {
      process.stdout.write(`${formatRunReport(await handle.result())}\n`);
      return 0;
    } catch (err) {
      const { error, run } = runFailure(err);
      if (run) process.stdout.write(`${formatRunReport(run)}\n`);
      process.stderr.write(`retry failed: ${error}\n`);
      return 1;
    }
  });
}

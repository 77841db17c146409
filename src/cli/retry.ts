import { Command } from 'commander';
import { type FailedTable, failedTables } from '../client/failed-tables';
import { runFailure } from '../client/run-failure';
import { checkedDate } from '../client/checked-date';
import { startDatasetRun } from '../client/start-run';
import { withClient } from '../client/with-client';
import { loadConfig } from '../config/load';
import type { DatasetConfig } from '../config/types';
import { ConfigError } from '../errors';
import { runUrl, temporalSettings } from '../settings';
import { tableMode } from '../workflows/mode-override';
import { tableList } from './options';
import { formatRunReport } from './report';

interface RetryOptions {
  config: string;
  date: string;
  input?: string;
  tables?: string;
  allowDeletes?: boolean;
}

export function retryCommand(): Command {
  return new Command('retry')
    .description('re-run the tables of a business date whose last run failed (after fixing the cause), and wait for them')
    .requiredOption('--config <file>', 'dataset config (YAML)')
    .requiredOption('--date <YYYY-MM-DD>', 'business date of the failed run')
    .option('--input <dir>', 'folder that relative source paths resolve against')
    .option('--tables <a,b>', 'only these of the failed tables')
    .option('--allow-deletes', 'apply a full snapshot that the delete guard refuses (a failed run started with --allow-deletes keeps it without this)')
    .action(async (opts: RetryOptions) => {
      process.exitCode = await retry(opts);
    });
}

/**
 * The config the tables re-run with: each in the mode its failed run used (a schedule's full on
 * a delta table, say; a snapshot mode and change records never swap). The deletes that run
 * allowed go in the run's input (see allowDeletesTables).
 */
function asTheyRan(config: DatasetConfig, chosen: FailedTable[]): DatasetConfig {
  const tables = config.tables.map((t) => {
    const failed = chosen.find((f) => f.table === t.name);
    return failed ? { ...t, mode: failed.mode === 'changes' ? t.mode : tableMode(t, failed.mode) } : t;
  });
  return { ...config, tables };
}

/** A chosen table as the retry names it, with what it keeps of its failed run. */
function retryLabel(config: DatasetConfig, failed: FailedTable): string {
  const table = config.tables.find((t) => t.name === failed.table)!;
  const notes = [
    ...(failed.state === 'NOT_STARTED' ? ['never started'] : []),
    ...(failed.mode !== table.mode ? [`${failed.mode} mode`] : []),
    ...(failed.allowDeletes && !table.allowDeletes ? ['--allow-deletes'] : []),
  ];
  return notes.length ? `${failed.table} (${notes.join('; ')})` : failed.table;
}

async function retry(opts: RetryOptions): Promise<number> {
  checkedDate('--date', opts.date);
  const config = loadConfig(opts.config, { inputDir: opts.input });
  const named = tableList(config, opts.tables);
  const settings = temporalSettings();
  return withClient(settings, async (client) => {
    const { failed, caughtUp } = await failedTables(client, config, opts.date, settings.searchAttributes);
    for (const c of caughtUp) {
      process.stderr.write(`${c.table}: only its sinks failed on ${opts.date} (the date is committed), and its run of ${c.by} has brought them up to date since: nothing to retry\n`);
    }
    const notFailed = (named ?? []).filter((t) => !failed.some((f) => f.table === t) && !caughtUp.some((c) => c.table === t));
    if (notFailed.length > 0) {
      throw new ConfigError(`${notFailed.join(', ')} did not fail on ${opts.date} (failed: ${failed.map((f) => f.table).join(', ') || 'none'}); use cdcflow run --tables to run a table again`);
    }
    const chosen = failed.filter((f) => !named || named.includes(f.table));
    if (chosen.length === 0) {
      process.stdout.write(`nothing to retry: no table of ${config.dataset} failed on ${opts.date}\n`);
      return 0;
    }
    const tables = chosen.map((f) => f.table);
    const approved = chosen.filter((f) => f.allowDeletes).map((f) => f.table);
    const { handle, runId } = await startDatasetRun(client, settings, {
      config: asTheyRan(config, chosen),
      businessDate: opts.date,
      tables,
      ...(opts.allowDeletes ? { allowDeletes: true } : {}),
      ...(approved.length ? { allowDeletesTables: approved } : {}),
    });
    process.stderr.write(`retrying ${chosen.map((f) => retryLabel(config, f)).join(', ')} of ${config.dataset} ${opts.date}: ${handle.workflowId}\n  ${runUrl(settings, handle.workflowId, runId)}\n`);
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

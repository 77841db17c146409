import { Command } from 'commander';
import { awaitResult } from '../client/await-result';
import { checkedDate } from '../client/checked-date';
import { runFailure } from '../client/run-failure';
import { startDatasetRun } from '../client/start-run';
import { withClient } from '../client/with-client';
import { watchProgress } from '../client/progress';
import { loadConfig } from '../config/load';
import { runUrl, temporalSettings } from '../settings';
import type { DatasetRunResult } from '../workflows';
import { tableList } from './options';
import { formatRunReport } from './report';

interface RunOptions {
  config: string;
  date: string;
  input?: string;
  tables?: string;
  json?: boolean;
  allowDeletes?: boolean;
}

export function runCommand(): Command {
  return new Command('run')
    .description('run a dataset for a business date on Temporal and wait for it (attaches to a run already in progress)')
    .requiredOption('--config <file>', 'dataset config (YAML)')
    .requiredOption('--date <YYYY-MM-DD>', 'business date')
    .option('--input <dir>', 'folder that relative source paths resolve against')
    .option('--tables <a,b>', 'run only these tables')
    .option('--json', 'print the result as one JSON object on stdout, and nothing else there')
    .option('--allow-deletes', 'apply a full snapshot that the delete guard refuses (empty, or deleting more than maxDeleteShare); recorded in the memo')
    .action(async (opts: RunOptions) => {
      process.exitCode = await run(opts);
    });
}

async function run(opts: RunOptions): Promise<number> {
  checkedDate('--date', opts.date);
  const config = loadConfig(opts.config, { inputDir: opts.input });
  const tables = tableList(config, opts.tables);
  const settings = temporalSettings();
  return withClient(settings, async (client) => {
    const { handle, runId, attached } = await startDatasetRun(client, settings, {
      config,
      businessDate: opts.date,
      tables,
      ...(opts.allowDeletes ? { allowDeletes: true } : {}),
    });
    const url = runUrl(settings, handle.workflowId, runId);
    if (!opts.json) {
      process.stderr.write(`${attached ? 'attached to the run already in progress' : 'started'}: ${handle.workflowId}\n  ${url}\n`);
    }
    const stopProgress = watchProgress(client, settings, handle, { quiet: Boolean(opts.json) });
    let outcome: { status: 'completed' | 'failed'; run?: DatasetRunResult; error?: string };
    try {
      const run = await awaitResult<DatasetRunResult>(handle, {
        onOutage: () =>
          process.stderr.write(`lost contact with Temporal at ${settings.address}; the run goes on there, still waiting for its outcome...\n`),
      });
      outcome = { status: 'completed', run };
    } catch (err) {
      outcome = { status: 'failed', ...runFailure(err) };
    } finally {
      await stopProgress();
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ workflowId: handle.workflowId, runId, url, attached, ...outcome })}\n`);
    } else {
      if (outcome.run) process.stdout.write(`${formatRunReport(outcome.run)}\n`);
      if (outcome.error && !outcome.run) process.stderr.write(`run failed: ${outcome.error}\n`);
      process.stdout.write(`Temporal UI: ${url}\n`);
    }
    return outcome.status === 'completed' ? 0 : 1;
  });
}

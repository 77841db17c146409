import { Client, Connection } from '@temporalio/client';
import { Command } from 'commander';
import { runFailure } from '../client/run-failure';
import { checkedDate } from '../client/checked-date';
import { startDatasetRun } from '../client/start-run';
import { watchProgress } from '../client/progress';
import { loadConfig } from '../config/load';
import { runUrl, temporalSettings } from '../settings';
import type { DatasetRunResult } from '../workflows';
import { formatRunReport } from './report';

interface RunOptions {
  config: string;
  date: string;
  input?: string;
  tables?: string;
  json?: boolean;
}

export function runCommand(): Command {
  return new Command('run')
    .description('run a dataset for a business date on Temporal and wait for it (attaches to a run already in progress)')
    .requiredOption('--config <file>', 'dataset config (YAML)')
    .requiredOption('--date <YYYY-MM-DD>', 'business date')
    .option('--input <dir>', 'folder that relative source paths resolve against')
    .option('--tables <a,b>', 'run only these tables')
    .option('--json', 'print the result as one JSON object on stdout, and nothing else there')
    .action(async (opts: RunOptions) => {
      process.exitCode = await run(opts);
    });
}

async function run(opts: RunOptions): Promise<number> {
  checkedDate('--date', opts.date);
  const config = loadConfig(opts.config, { inputDir: opts.input });
  const tables = opts.tables?.split(',').map((t) => t.trim()).filter(Boolean);
  const settings = temporalSettings();
  const connection = await Connection.connect({ address: settings.address });
  try {
    const client = new Client({ connection, namespace: settings.namespace });
    const { handle, runId, attached } = await startDatasetRun(client, settings, { config, businessDate: opts.date, tables });
    const url = runUrl(settings, handle.workflowId, runId);
    if (!opts.json) {
      process.stderr.write(`${attached ? 'attached to the run already in progress' : 'started'}: ${handle.workflowId}\n  ${url}\n`);
    }
    const stopProgress = watchProgress(client, settings, handle, { quiet: Boolean(opts.json) });
    let outcome: { status: 'completed' | 'failed'; run?: DatasetRunResult; error?: string };
    try {
      outcome = { status: 'completed', run: await handle.result() };
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
  } finally {
    await connection.close();
  }
}

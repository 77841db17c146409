import { Command } from 'commander';
import { findRuns, type RunRow } from '../client/find-runs';
import { withClient } from '../client/with-client';
import { loadConfig } from '../config/load';
import type { DatasetConfig } from '../config/types';
import { Engine } from '../engine/duckdb';
import { engineSettings, temporalSettings } from '../settings';
import { type SinkStatus, sinkStatuses } from '../sinks/sink-status';
import { positiveInteger } from './options';
import { pad } from './report';

interface StatusOptions {
  config: string;
  days: number;
  json?: boolean;
}

export function statusCommand(): Command {
  return new Command('status')
    .description('recent runs of a dataset, per business date and table: state, counts, duration, UI link')
    .requiredOption('--config <file>', 'dataset config (YAML)')
    .option('--days <n>', 'runs started in the last N days', positiveInteger, 7)
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts: StatusOptions) => {
      const config = loadConfig(opts.config);
      const settings = temporalSettings();
      const since = new Date(Date.now() - opts.days * 86_400_000).toISOString();
      const runs = await withClient(settings, (client) => findRuns(client, settings, config.dataset, `StartTime > "${since}"`));
      const sinks = await readSinkStatuses(config);
      process.stdout.write(
        opts.json ? `${JSON.stringify({ dataset: config.dataset, since, runs, sinks })}\n` : `${formatStatus(config.dataset, runs)}\n${formatSinks(sinks)}`,
      );
    });
}

async function readSinkStatuses(config: DatasetConfig): Promise<SinkStatus[]> {
  if (!config.tables.some((t) => t.sinks?.length)) return [];
  const engine = await Engine.create(engineSettings());
  try {
    return await sinkStatuses(engine, config);
  } finally {
    await engine.close();
  }
}

function formatSinks(sinks: SinkStatus[]): string {
  if (sinks.length === 0) return '';
  const rows = sinks.map((s) => [s.table, `${s.sink} (${s.type})`, s.error ? `unreachable: ${s.error}` : (s.lastApplied ?? 'nothing applied')]);
  return `\n${pad([['table', 'sink', 'last applied'], ...rows])}\n`;
}

/** Newest date first; within a date the dataset run, then its tables by name. */
function formatStatus(dataset: string, runs: RunRow[]): string {
  if (runs.length === 0) return `no runs of ${dataset} in that period`;
  const ordered = [...runs].sort(
    (a, b) => (b.businessDate ?? '').localeCompare(a.businessDate ?? '') || (a.table ?? '').localeCompare(b.table ?? '') || b.startTime.localeCompare(a.startTime),
  );
  const count = (r: RunRow, k: keyof NonNullable<RunRow['counts']>) => (r.counts ? String(r.counts[k]) : '-');
  const rows = ordered.map((r) => [
    r.businessDate ?? '?',
    r.table ?? '(dataset)',
    r.state,
    count(r, 'inserts'),
    count(r, 'updates'),
    count(r, 'deletes'),
    count(r, 'unchanged'),
    r.durationSeconds === undefined ? '-' : r.durationSeconds.toFixed(1),
  ]);
  const lines = pad([['date', 'table', 'state', 'I', 'U', 'D', 'N', 'seconds'], ...rows]).split('\n');
  return lines.map((line, i) => `${line}  ${i === 0 ? 'UI' : ordered[i - 1].url}`).join('\n');
}

/**
 * The change-record case of `npm run bench`: `rows` insert events build a state of `rows` keys
 * (day 1), then `rows` events over `rows / 2` keys (new, updated and deleted keys, duplicates,
 * stale copies; `generate --changes`) are compacted and applied through the real workflow
 * (day 2), beside the same compaction and apply as one plain DuckDB SQL script in the same run.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { startDatasetRun } from '../src/client/start-run';
import { loadConfig } from '../src/config/load';
import type { FileTableConfig } from '../src/config/types';
import type { Engine } from '../src/engine/duckdb';
import { generateChanges } from '../src/generator/generate-changes';
import type { TemporalSettings } from '../src/settings';
import { tableWorkflowId } from '../src/workflows/ids';
import { cpuSecondsSince, mb, sampleMemory, stageSeconds } from './measure';
import { plainChangesApply } from './plain-changes';

export interface ChangeBenchDeps {
  client: Client;
  settings: TemporalSettings;
  engine: Engine;
}

export async function changeRecordsBench(deps: ChangeBenchDeps, rows: number, dir: string): Promise<void> {
  const touched = Math.floor(rows / 2);
  process.stdout.write(`\nchange records: ${rows.toLocaleString('en')} events over ${touched.toLocaleString('en')} keys onto a ${rows.toLocaleString('en')}-row state\n`);
  let t = performance.now();
  const data = await generateChanges({ outDir: path.join(dir, 'data'), initial: rows, events: rows, touched, seed: 1 });
  process.stdout.write(`generated in ${((performance.now() - t) / 1000).toFixed(1)} s (day 2: ${data.expected.changes.events.toLocaleString('en')} lines)\n`);

  const memory = sampleMemory();
  let day2Seconds = 0;
  let day2Cpu = 0;
  for (const [i, day] of (['day1', 'day2'] as const).entries()) {
    const config = loadConfig(data.files.config, { inputDir: path.join(dir, 'data', day) });
    const date = data.dates[i];
    // Peak memory is reported for day 2, the apply.
    if (i === 1) Object.assign(memory.peak, { rss: 0, heap: 0 });
    t = performance.now();
    const cpu = process.cpuUsage();
    const { handle } = await startDatasetRun(deps.client, deps.settings, { config, businessDate: date });
    const result = await handle.result();
    const seconds = (performance.now() - t) / 1000;
    const cpuSeconds = cpuSecondsSince(cpu);
    const table = result.tables[0];
    if (table.status !== 'completed') throw new Error(`change-record bench run failed: ${JSON.stringify(table)}`);
    const stages = await stageSeconds(deps.client, tableWorkflowId(config.dataset, date, table.table));
    const events = i === 0 ? rows : data.expected.changes.events;
    const c = table.result.counts;
    const e = table.result.changes;
    process.stdout.write(
      `${day} (${date}): ${seconds.toFixed(2)} s (CPU ${cpuSeconds.toFixed(2)} s), ${Math.round(events / seconds).toLocaleString('en')} events/s; I ${c.I} U ${c.U} D ${c.D} X ${c.X} N ${c.N}` +
        (e ? `; stale ${e.stale}, duplicates ${e.duplicates}` : '') +
        '\n' +
        Object.entries(stages).map(([name, s]) => `  ${name.padEnd(17)} ${s.toFixed(2)} s\n`).join(''),
    );
    if (i === 1) [day2Seconds, day2Cpu] = [seconds, cpuSeconds];
    // The plain script starts from the day-1 state as published.
    if (i === 0) copyFileSync(table.result.currentPath, path.join(dir, 'day1-state.parquet'));
  }
  memory.stop();
  process.stdout.write(`peak memory, day 2: RSS ${mb(memory.peak.rss)} (DuckDB included), JS heap ${mb(memory.peak.heap)}\n`);

  const table = loadConfig(data.files.config, { inputDir: path.join(dir, 'data', 'day2') }).tables[0] as FileTableConfig;
  const day1Table = loadConfig(data.files.config, { inputDir: path.join(dir, 'data', 'day1') }).tables[0] as FileTableConfig;
  const plainDir = path.join(dir, 'plain');
  mkdirSync(plainDir, { recursive: true });
  const plain = await plainChangesApply(deps.engine, table, day1Table.source.path, path.join(dir, 'day1-state.parquet'), data.dates[1], plainDir);
  const events = data.expected.changes.events;
  process.stdout.write(
    `plain DuckDB SQL script, day 2: ${plain.seconds.toFixed(2)} s (CPU ${plain.cpuSeconds.toFixed(2)} s), ${Math.round(events / plain.seconds).toLocaleString('en')} events/s\n` +
      `workflow / plain script: ${(day2Seconds / plain.seconds).toFixed(2)}x (target: within 1.5x); CPU ${(day2Cpu / plain.cpuSeconds).toFixed(2)}x\n`,
  );
}

/**
 * The many-small-tables case of `npm run bench`: one dataset of TABLES tables of ROWS rows
 * each (the generator's data, read by every table), day 1 then day 2 through the workflow,
 * beside the same day-2 diffs as plain DuckDB SQL scripts run one after the other in one
 * process. What it measures is cdcflow's cost per table above the plain script's.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { startDatasetRun } from '../src/client/start-run';
import { loadConfig } from '../src/config/load';
import type { FileTableConfig } from '../src/config/types';
import type { Engine } from '../src/engine/duckdb';
import { generate } from '../src/generator/generate';
import type { TemporalSettings } from '../src/settings';
import { cpuSecondsSince, temporalServerCpuSeconds } from './measure';
import { plainSqlDiff } from './plain-sql';

const TABLES = Number(process.env.BENCH_SMALL_TABLES ?? 50);
const ROWS = Number(process.env.BENCH_SMALL_ROWS ?? 2_000);

export async function smallTables(client: Client, settings: TemporalSettings, engine: Engine, dir: string, maxConcurrentTables: number): Promise<void> {
  const data = await generate({ outDir: path.join(dir, 'data'), initial: ROWS, keys: 2, nonkeys: 6, delete: 0.2, update: 0.4, unchanged: 0.4, seed: 3 });
  const doc = parse(readFileSync(data.files.config, 'utf8')) as { tables: { name: string }[] } & Record<string, unknown>;
  const template = doc.tables[0];
  const names = Array.from({ length: TABLES }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
  const file = path.join(dir, 'data', 'small-tables.yaml');
  writeFileSync(file, stringify({ ...doc, dataset: 'bench_small', maxConcurrentTables, tables: names.map((name) => ({ ...template, name })) }));

  const seconds: number[] = [];
  const cpu: { self: number; server?: number }[] = [];
  const basePaths = new Map<string, string>();
  for (const [i, day] of (['day1', 'day2'] as const).entries()) {
    const config = loadConfig(file, { inputDir: path.join(dir, 'data', day) });
    const started = performance.now();
    const [selfFrom, serverFrom] = [process.cpuUsage(), temporalServerCpuSeconds()];
    const { handle } = await startDatasetRun(client, settings, { config, businessDate: data.dates[i] });
    const result = await handle.result();
    seconds.push((performance.now() - started) / 1000);
    const serverTo = temporalServerCpuSeconds();
    cpu.push({ self: cpuSecondsSince(selfFrom), ...(serverFrom !== undefined && serverTo !== undefined ? { server: serverTo - serverFrom } : {}) });
    for (const t of result.tables) {
      if (t.status !== 'completed') throw new Error(`bench small table failed: ${JSON.stringify(t)}`);
      // The plain scripts diff day 2 against each table's committed day-1 state.
      if (i === 0) basePaths.set(t.table, t.result.currentPath);
    }
  }

  const config = loadConfig(file, { inputDir: path.join(dir, 'data', 'day2') });
  let plain = 0;
  let plainCpu = 0;
  for (const table of config.tables as FileTableConfig[]) {
    const out = path.join(dir, 'plain', table.name);
    mkdirSync(out, { recursive: true });
    const script = await plainSqlDiff(engine, table, [table.source.path], basePaths.get(table.name)!, data.dates[1], out);
    plain += script.seconds;
    plainCpu += script.cpuSeconds;
  }
  const [day1, day2] = seconds;
  const perTable = (s: number) => `${((s / TABLES) * 1000).toFixed(0)} ms/table`;
  const server = cpu[1].server === undefined ? '' : `, the Temporal dev server ${cpu[1].server.toFixed(2)} s (${perTable(cpu[1].server)})`;
  process.stdout.write(
    `${TABLES} tables x ${ROWS.toLocaleString('en')} rows (maxConcurrentTables ${maxConcurrentTables}): ` +
      `day1 ${day1.toFixed(2)} s, day2 ${day2.toFixed(2)} s (${perTable(day2)})\n` +
      `plain DuckDB SQL scripts, day 2: ${plain.toFixed(2)} s (${perTable(plain)})\n` +
      `CPU, day 2: this process (worker and DuckDB) ${cpu[1].self.toFixed(2)} s (${perTable(cpu[1].self)})${server}; ` +
      `plain scripts ${plainCpu.toFixed(2)} s (${perTable(plainCpu)})\n` +
      `workflow / plain scripts: ${(day2 / plain).toFixed(2)}x (target: within 1.5x); ` +
      `cost above plain: ${(((day2 - plain) / TABLES) * 1000).toFixed(0)} ms/table\n\n`,
  );
}

/**
 * The many-small-tables case of `npm run bench`: one dataset of TABLES tables of ROWS rows
 * each (the generator's data, read by every table), three dates through the workflow (day 1's
 * files, day 2's, then day 1's again), beside the same diffs of the second and third dates as
 * plain DuckDB SQL scripts run one after the other in one process. The third date is what
 * every daily run is from then on: its commits make a date old enough for retention to expire.
 * What it measures is cdcflow's cost per table above the plain script's.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

  const runs = [
    { day: 'day1', date: data.dates[0] },
    { day: 'day2', date: data.dates[1] },
    { day: 'day1', date: nextDate(data.dates[1]) },
  ] as const;
  const measured: { seconds: number; cpu: number; server?: number; plain?: { seconds: number; cpu: number } }[] = [];
  for (const [i, { day, date }] of runs.entries()) {
    const config = loadConfig(file, { inputDir: path.join(dir, 'data', day) });
    const started = performance.now();
    const [selfFrom, serverFrom] = [process.cpuUsage(), temporalServerCpuSeconds()];
    const { handle } = await startDatasetRun(client, settings, { config, businessDate: date });
    const result = await handle.result();
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSecondsSince(selfFrom);
    const serverTo = temporalServerCpuSeconds();
    for (const t of result.tables) if (t.status !== 'completed') throw new Error(`bench small table failed: ${JSON.stringify(t)}`);
    // The same diffs as plain scripts, on the state the date was diffed against (kept before the date ran).
    const plain = i === 0 ? undefined : await plainScripts(engine, config.tables as FileTableConfig[], dir, i, date);
    measured.push({ seconds, cpu, ...(serverFrom !== undefined && serverTo !== undefined ? { server: serverTo - serverFrom } : {}), ...(plain ? { plain } : {}) });
    for (const t of result.tables) if (t.status === 'completed') copyFileSync(t.result.currentPath, stateCopy(dir, t.table, i));
  }

  const perTable = (s: number) => `${((s / TABLES) * 1000).toFixed(0)} ms/table`;
  const lines = [`${TABLES} tables x ${ROWS.toLocaleString('en')} rows (maxConcurrentTables ${maxConcurrentTables}): day 1 ${measured[0].seconds.toFixed(2)} s`];
  for (const [i, m] of measured.entries()) {
    if (!m.plain) continue;
    const label = i === 1 ? 'day 2' : 'day 3 (retention expires from here on: every later date)';
    const server = m.server === undefined ? '' : `, the Temporal dev server ${m.server.toFixed(2)} s (${perTable(m.server)})`;
    lines.push(
      `${label}: ${m.seconds.toFixed(2)} s (${perTable(m.seconds)}); plain DuckDB SQL scripts ${m.plain.seconds.toFixed(2)} s (${perTable(m.plain.seconds)})`,
      `  CPU: this process (worker and DuckDB) ${m.cpu.toFixed(2)} s (${perTable(m.cpu)})${server}; plain scripts ${m.plain.cpu.toFixed(2)} s (${perTable(m.plain.cpu)})`,
      `  workflow / plain scripts: ${(m.seconds / m.plain.seconds).toFixed(2)}x (target: within 1.5x); cost above plain: ${(((m.seconds - m.plain.seconds) / TABLES) * 1000).toFixed(0)} ms/table`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

/** Where a table's state after run `i` is kept: the published current file is replaced by the next date. */
function stateCopy(dir: string, table: string, i: number): string {
  const folder = path.join(dir, 'states', table);
  mkdirSync(folder, { recursive: true });
  return path.join(folder, `after-${i}.parquet`);
}

/** Run `i`'s diffs as one plain script per table, one after the other, each on the state before it. */
async function plainScripts(engine: Engine, tables: readonly FileTableConfig[], dir: string, i: number, date: string): Promise<{ seconds: number; cpu: number }> {
  const total = { seconds: 0, cpu: 0 };
  for (const table of tables) {
    const out = path.join(dir, 'plain', `${i}`, table.name);
    mkdirSync(out, { recursive: true });
    const script = await plainSqlDiff(engine, table, [table.source.path], stateCopy(dir, table.name, i - 1), date, out);
    total.seconds += script.seconds;
    total.cpu += script.cpuSeconds;
  }
  return total;
}

function nextDate(isoDate: string): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

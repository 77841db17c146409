/**
 * `npm run bench`: the generator's seed-shaped data (1,000,000 rows by default, BENCH_ROWS to
 * change) through the real workflow, day 1 then day 2, on a real Temporal server and an
 * in-process worker. Prints per-stage seconds, rows per second and peak memory, then the same
 * day-2 diff as one plain DuckDB SQL script, and the ratio of the two. Then many small tables
 * (bench/small-tables.ts), change records (bench/changes.ts) and a PostgreSQL table of as many rows dumped in chunks beside psql's
 * COPY of it (bench/postgres-dump.ts). BENCH_CASES=big,small,changes,postgres picks the cases;
 * BENCH_ACTIVITY_SLOTS sets the worker's activity slots (and the small tables' concurrency, unless
 * BENCH_MAX_TABLES sets their maxConcurrentTables);
 * BENCH_WORKERS the worker processes (bench/more-workers.ts).
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startDatasetRun } from '../src/client/start-run';
import { loadConfig } from '../src/config/load';
import type { FileTableConfig } from '../src/config/types';
import { Engine } from '../src/engine/duckdb';
import { generate } from '../src/generator/generate';
import { engineSettings, temporalSettings } from '../src/settings';
import { createWorker } from '../src/worker';
import { tableWorkflowId } from '../src/workflows/ids';
import { changeRecordsBench } from './changes';
import { cpuSecondsSince, folderBytes, mb, sampleMemory, samplePeakBytes, stageSeconds } from './measure';
import { startMoreWorkers } from './more-workers';
import { plainSqlDiff } from './plain-sql';
import { postgresDump } from './postgres-dump';
import { smallTables } from './small-tables';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const dir = path.resolve(process.env.BENCH_DIR ?? '.cdcflow/bench');
/** The worker's activity slots (`cdcflow worker --max-activities`), and the small tables' maxConcurrentTables. */
const WORKER_ACTIVITY_SLOTS = Number(process.env.BENCH_ACTIVITY_SLOTS ?? 4);

/** Worker processes in all: the in-process one and BENCH_WORKERS - 1 `cdcflow worker` processes beside it. */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);

/** Which cases run: BENCH_CASES, a comma-separated subset of these (all by default). */
const CASES = (process.env.BENCH_CASES ?? 'big,small,changes,postgres').split(',').map((c) => c.trim());

interface Bench {
  client: Client;
  settings: ReturnType<typeof temporalSettings>;
  engine: Engine;
  tempDirectory: string;
}

/** One table of `rows` rows: day 1 and day 2 through the workflow, then the plain script's day 2. */
async function oneBigTable({ client, settings, engine, tempDirectory }: Bench): Promise<void> {
  process.stdout.write(`cdcflow bench: ${rows.toLocaleString('en')} rows, 5 keys, 10 non-keys, 0.2/0.4/0.4\n`);
  let t = performance.now();
  const data = await generate({ outDir: path.join(dir, 'data'), initial: rows, keys: 5, nonkeys: 10, delete: 0.2, update: 0.4, unchanged: 0.4, seed: 1 });
  process.stdout.write(`generated in ${((performance.now() - t) / 1000).toFixed(1)} s\n\n`);

  const plainBase = path.join(dir, 'day1-state.parquet');
  const memory = sampleMemory();
  const spill = samplePeakBytes(tempDirectory);
  const results: { date: string; seconds: number; cpuSeconds: number; stages: Record<string, number> }[] = [];
  for (const [i, day] of (['day1', 'day2'] as const).entries()) {
    const config = loadConfig(data.files.config, { inputDir: path.join(dir, 'data', day) });
    const date = data.dates[i];
    t = performance.now();
    const cpu = process.cpuUsage();
    const { handle } = await startDatasetRun(client, settings, { config, businessDate: date });
    const result = await handle.result();
    const seconds = (performance.now() - t) / 1000;
    const cpuSeconds = cpuSecondsSince(cpu);
    const table = result.tables[0];
    if (table.status !== 'completed') throw new Error(`bench run failed: ${JSON.stringify(table)}`);
    const stages = await stageSeconds(client, tableWorkflowId(config.dataset, date, table.table));
    results.push({ date, seconds, cpuSeconds, stages });
    // The plain script diffs day 2 against the committed day-1 state, as published.
    if (i === 0) copyFileSync(table.result.currentPath, plainBase);
    const c = table.result.counts;
    process.stdout.write(
      `${day} (${date}): ${seconds.toFixed(2)} s (CPU ${cpuSeconds.toFixed(2)} s), ${Math.round(rows / seconds).toLocaleString('en')} rows/s; ` +
        `I ${c.I} U ${c.U} D ${c.D} X ${c.X} N ${c.N}\n` +
        Object.entries(stages)
          .map(([name, s]) => `  ${name.padEnd(17)} ${s.toFixed(2)} s, ${Math.round(rows / s).toLocaleString('en')} rows/s\n`)
          .join(''),
    );
  }
  memory.stop();
  spill.stop();
  const limit = process.env.CDCFLOW_DUCKDB_MEMORY_LIMIT ?? "DuckDB's default, 80% of RAM";
  process.stdout.write(
    `peak memory: RSS ${mb(memory.peak.rss)} (DuckDB included; limit ${limit}), JS heap ${mb(memory.peak.heap)}\n` +
      `disk: peak spill ${mb(spill.peak.bytes)} in ${tempDirectory}; warehouse ${mb(folderBytes(path.join(dir, 'data', 'warehouse')))} ` +
      `after both days (sources ${mb(folderBytes(path.join(dir, 'data', 'day1')) + folderBytes(path.join(dir, 'data', 'day2')))})\n\n`,
  );

  const config = loadConfig(data.files.config, { inputDir: path.join(dir, 'data', 'day2') });
  const table = config.tables[0] as FileTableConfig;
  const plainDir = path.join(dir, 'plain');
  mkdirSync(plainDir, { recursive: true });
  const plain = await plainSqlDiff(engine, table, [table.source.path], plainBase, data.dates[1], plainDir);
  const day2 = results[1];
  process.stdout.write(
    `plain DuckDB SQL script, day 2: ${plain.seconds.toFixed(2)} s (CPU ${plain.cpuSeconds.toFixed(2)} s), ${Math.round(rows / plain.seconds).toLocaleString('en')} rows/s\n` +
      `workflow / plain script: ${(day2.seconds / plain.seconds).toFixed(2)}x (target: within 1.2x); CPU ${(day2.cpuSeconds / plain.cpuSeconds).toFixed(2)}x\n\n`,
  );
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const settings = { ...temporalSettings(), taskQueue: `bench-${process.pid}` };
  const engineConfig = engineSettings();
  const engine = await Engine.create(engineConfig);
  const nativeConnection = await NativeConnection.connect({ address: settings.address });
  const worker = await createWorker({
    connection: nativeConnection,
    settings,
    deps: { engine },
    maxConcurrentActivities: WORKER_ACTIVITY_SLOTS,
    workflowBundlePath: process.env.CDCFLOW_WORKFLOW_BUNDLE || undefined,
  });
  const running = worker.run();
  const stopMoreWorkers = await startMoreWorkers(WORKERS - 1, settings.taskQueue, WORKER_ACTIVITY_SLOTS);
  if (WORKERS > 1) process.stdout.write(`${WORKERS} worker processes on the task queue\n\n`);
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  const bench: Bench = { client, settings, engine, tempDirectory: engineConfig.tempDirectory! };

  if (CASES.includes('big')) await oneBigTable(bench);
  if (CASES.includes('small')) await smallTables(client, settings, engine, path.join(dir, 'small'), Number(process.env.BENCH_MAX_TABLES ?? WORKER_ACTIVITY_SLOTS));
  if (CASES.includes('changes')) {
    await changeRecordsBench({ client, settings, engine }, rows, path.join(dir, 'changes'));
  }
  if (CASES.includes('postgres')) await postgresDump(client, settings, engine, rows, path.join(dir, 'postgres'));

  await stopMoreWorkers();
  worker.shutdown();
  await running;
  await connection.close();
  await nativeConnection.close();
  await engine.close();
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

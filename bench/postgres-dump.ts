/**
 * The PostgreSQL case of `npm run bench`: a table of `rows` rows dumped by cdcflow's extract
 * stage (keyset chunks to Parquet, through the real workflow) beside PostgreSQL's own
 * `COPY (SELECT ...) TO STDOUT` of the same table into a file, through psql, in the same run.
 * The worker loads DuckDB's postgres extension before the run, as a worker does once per
 * process; its time is printed apart.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Engine } from '../src/engine/duckdb';
import { stringify } from 'yaml';
import { startDatasetRun } from '../src/client/start-run';
import { loadConfig } from '../src/config/load';
import type { PostgresSourceSpec } from '../src/config/types';
import type { TemporalSettings } from '../src/settings';
import { tableWorkflowId } from '../src/workflows/ids';
import { stageSeconds } from './measure';

/** Set by scripts/bench.sh: a throw-away cluster of its own. */
const URL_VAR = 'CDCFLOW_BENCH_PG_URL';
const TABLE = 'bench_pg.records';

function psql(url: string, sql: string): void {
  execFileSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
  });
}

/** Seconds for psql to write `COPY (SELECT * FROM table) TO STDOUT` into a file. */
function copyToFile(url: string, file: string): Promise<number> {
  const out = openSync(file, 'w');
  const started = performance.now();
  const child = spawn('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `COPY (SELECT * FROM ${TABLE}) TO STDOUT`], { stdio: ['ignore', out, 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      closeSync(out);
      if (code === 0) resolve((performance.now() - started) / 1000);
      else reject(new Error(`psql COPY exited with ${code}`));
    });
  });
}

export async function postgresDump(
  client: Client,
  settings: TemporalSettings,
  engine: Engine,
  rows: number,
  dir: string,
): Promise<void> {
  const url = process.env[URL_VAR];
  if (!url) throw new Error(`${URL_VAR} is not set (scripts/bench.sh starts the cluster)`);
  mkdirSync(dir, { recursive: true });
  let t = performance.now();
  psql(
    url,
    `DROP SCHEMA IF EXISTS bench_pg CASCADE; CREATE SCHEMA bench_pg;
     CREATE TABLE ${TABLE} (id bigint PRIMARY KEY, code text, amount numeric(12,2), quantity integer, score double precision,
       active boolean, created date, updated_at timestamp, note text);
     INSERT INTO ${TABLE} SELECT g, md5(g::text), g % 100000 / 100.0, g % 1000, g / 7.0, g % 3 = 0,
       DATE '2020-01-01' + g % 1500, TIMESTAMP '2024-01-01' + g * INTERVAL '1 second', 'note ' || (g % 977)
     FROM generate_series(1, ${rows}) g;`,
  );
  psql(url, `VACUUM ANALYZE ${TABLE}`);
  process.stdout.write(`\nPostgreSQL: ${rows.toLocaleString('en')} rows loaded in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);

  const configFile = path.join(dir, 'dataset.yaml');
  writeFileSync(
    configFile,
    stringify({
      dataset: 'bench-pg',
      warehouse: 'warehouse',
      tables: [
        {
          name: 'records',
          keys: [{ name: 'id', type: 'bigint' }],
          columns: [
            { name: 'code', type: 'varchar' },
            { name: 'amount', type: 'decimal(12,2)' },
            { name: 'quantity', type: 'integer' },
            { name: 'score', type: 'double' },
            { name: 'active', type: 'boolean' },
            { name: 'created', type: 'date' },
            { name: 'updated_at', type: 'timestamp' },
            { name: 'note', type: 'varchar' },
          ],
          source: { format: 'postgres', connection: URL_VAR, table: TABLE },
        },
      ],
    }),
  );
  const config = loadConfig(configFile);
  t = performance.now();
  await engine.withSession((s) => s.run('LOAD postgres_scanner'));
  const extensionLoad = (performance.now() - t) / 1000;
  const copyBefore = await copyToFile(url, path.join(dir, 'copy.tsv'));
  t = performance.now();
  const { handle } = await startDatasetRun(client, settings, { config, businessDate: '2024-01-01' });
  const result = await handle.result();
  const seconds = (performance.now() - t) / 1000;
  if (result.tables[0].status !== 'completed') throw new Error(`PostgreSQL bench run failed: ${JSON.stringify(result.tables[0])}`);
  const stages = await stageSeconds(client, tableWorkflowId(config.dataset, '2024-01-01', 'records'));
  const copyAfter = await copyToFile(url, path.join(dir, 'copy.tsv'));
  const copy = Math.min(copyBefore, copyAfter);
  // The two COPY runs bracket the dump; on a machine whose load varies, their mean is the fairer match.
  const copyMean = (copyBefore + copyAfter) / 2;
  const extract = stages.extractSource;
  const rate = (s: number) => `${Math.round(rows / s).toLocaleString('en')} rows/s`;
  const { chunkRows, concurrentChunks } = config.tables[0].source as PostgresSourceSpec;
  process.stdout.write(
    `DuckDB's postgres extension loaded before the run (once per worker process): ${extensionLoad.toFixed(2)} s\n` +
      `full run of the table: ${seconds.toFixed(2)} s\n` +
      Object.entries(stages).map(([name, s]) => `  ${name.padEnd(17)} ${s.toFixed(2)} s\n`).join('') +
      `chunked dump (extractSource, chunks of ${chunkRows.toLocaleString('en')}, ${concurrentChunks} at a time): ${extract.toFixed(2)} s, ${rate(extract)}\n` +
      `psql COPY (SELECT ...) TO STDOUT to a file: ${copy.toFixed(2)} s, ${rate(copy)} (best of ${copyBefore.toFixed(2)} s before, ${copyAfter.toFixed(2)} s after)\n` +
      `chunked dump / COPY throughput: ${((copy / extract) * 100).toFixed(0)}% of the best COPY, ${((copyMean / extract) * 100).toFixed(0)}% of their mean (target: at least 80%)\n`,
  );
}

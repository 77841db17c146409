/**
 * Scaling out: two worker processes on one task queue run a 20-table dataset on the PostgreSQL
 * catalog with its data files on S3 (a local moto server through DuckDB's httpfs). Both workers
 * did work (the activity starts in the runs' histories name them), and every published output
 * equals that of a one-worker run on local storage.
 *
 * The workers are started as the Docker image starts them: `cdcflow bundle` writes the workflow
 * bundle, `cdcflow worker` loads it (CDCFLOW_WORKFLOW_BUNDLE). Needs dist/ (the test script builds it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type { DatasetConfig } from '../../src/config/types';
import { quoteLiteral } from '../../src/engine/sql';
import { tableLayout } from '../../src/warehouse/layout';
import { tableWorkflowId } from '../../src/workflows/ids';
import { CLI } from '../support/cli';
import { difference } from '../support/compare';
import { type Harness, runDataset, startHarness, tempDir, uniqueDataset, writeConfig, writeCsv } from '../support/harness';
import { PG_URL_VAR } from '../support/postgres';
import { type S3TestServer, startS3Server } from '../support/s3-server';
import { activityStarts, killAllWorkers, spawnWorker } from '../support/worker-process';

const DATES = ['2024-01-01', '2024-01-02'];
const TABLES = Array.from({ length: 20 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);

let h: Harness;
let s3: S3TestServer;
let dir: string;

beforeAll(async () => {
  [h, s3] = await Promise.all([startHarness(), startS3Server()]);
  dir = tempDir('cdcflow-scale-');
  // Each table its own mix: day 2 deletes, updates and inserts a share of rows that depends on it.
  TABLES.forEach((table, t) => {
    for (const [d, date] of DATES.entries()) {
      const folder = path.join(dir, 'in', date);
      mkdirSync(folder, { recursive: true });
      const rows = Array.from({ length: 60 }, (_, i) => i)
        .filter((i) => d === 0 || i % (t + 3) !== 0)
        .map((i) => [i, d === 1 && i % (t + 4) === 1 ? `changed-${i}` : `v${t}-${i}`, i * t]);
      if (d === 1) rows.push(...Array.from({ length: t + 1 }, (_, k) => [1000 + k, `new-${k}`, k]));
      writeCsv(path.join(folder, `${table}.csv`), ['id', 'v', 'n'], rows);
    }
  });
});
afterAll(async () => {
  await killAllWorkers();
  await Promise.all([h?.stop(), s3?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

function config(name: string, date: string): DatasetConfig {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  const tables = TABLES.map((table) => ({
    name: table,
    keys: [{ name: 'id', type: 'integer' }],
    columns: [
      { name: 'v', type: 'varchar' },
      { name: 'n', type: 'bigint' },
    ],
    source: { format: 'csv', path: `${table}.csv` },
  }));
  return writeConfig(folder, { dataset: name, warehouse: 'wh', maxConcurrentTables: 8, tables }, path.join(dir, 'in', date));
}

test('two workers on one task queue, PostgreSQL catalog and S3 data path: both did work, outputs equal a one-worker local run', async () => {
  const local = uniqueDataset('local');
  const shared = uniqueDataset('shared');
  const queue = `scale-${shared}`;
  // As the image runs them: the bundle written by `cdcflow bundle`, then `cdcflow worker`.
  const bundle = path.join(dir, 'workflow-bundle.js');
  execFileSync(process.execPath, [CLI, 'bundle', '--out', bundle], { stdio: 'ignore' });
  const env = { ...s3.env, CDCFLOW_CATALOG_URL: process.env[PG_URL_VAR]!, CDCFLOW_DATA_PATH: `s3://${s3.bucket}/lake`, CDCFLOW_WORKFLOW_BUNDLE: bundle };
  const workers = await Promise.all([spawnWorker(queue, path.join(dir, 'tmp1'), { env }), spawnWorker(queue, path.join(dir, 'tmp2'), { env })]);
  const runDates = async (name: string, settings: typeof h.settings) => {
    for (const date of DATES) {
      const outcome = await runDataset({ client: h.client, settings }, config(name, date), date);
      const failed = TABLES.filter((t) => !outcome.result?.tables.some((o) => o.table === t && o.status === 'completed'));
      if (failed.length) throw new Error(`${name} ${date}: ${JSON.stringify(outcome)}\n${workers.map((w) => w.output()).join('\n')}`);
    }
  };
  // The one-worker local run (the in-process worker) and the two-worker run at once.
  await Promise.all([runDates(local, h.settings), runDates(shared, { ...h.settings, taskQueue: queue })]);

  // Who ran what: every activity start in the table runs' histories names its worker.
  const identities = new Map<string, number>();
  for (const date of DATES) {
    for (const t of TABLES) {
      for (const { identity } of await activityStarts(h.client, tableWorkflowId(shared, date, t))) identities.set(identity, (identities.get(identity) ?? 0) + 1);
    }
  }
  const expected = workers.map((w) => `${w.child.pid}@${hostname()}`).sort();
  expect([...identities.keys()].sort()).toEqual(expected);

  // The data files are in the bucket, not in the warehouse folder.
  expect((await s3.keys('lake/')).filter((k) => k.endsWith('.parquet')).length).toBeGreaterThan(TABLES.length);
  const sharedWh = config(shared, DATES[1]).warehouse;
  expect(existsSync(path.join(sharedWh, '_lake'))).toBe(false);

  const localWh = config(local, DATES[1]).warehouse;
  const parquet = (p: string) => `SELECT * FROM read_parquet(${quoteLiteral(p)}, hive_partitioning = true)`;
  await h.engine.withSession(async (s) => {
    for (const t of TABLES) {
      const a = tableLayout(localWh, local, t);
      const b = tableLayout(sharedWh, shared, t);
      const current = await difference(s, parquet(a.current), parquet(b.current));
      const history = await difference(s, parquet(path.join(a.historyRoot, '*', '*.parquet')), parquet(path.join(b.historyRoot, '*', '*.parquet')));
      expect({ t, current: current.diff, history: history.diff }).toEqual({ t, current: 0, history: 0 });
      expect(current.rows).toBeGreaterThan(0);
      expect(history.rows).toBeGreaterThan(current.rows);
    }
  });
}, 600_000);

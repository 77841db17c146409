/**
 * One table spread over two workers: `buckets: 4` splits its diff and write into key-hash
 * buckets that run as parallel activities on two worker processes of one task queue (sharing
 * the warehouse). Both workers ran bucket activities (from the histories); the committed
 * outputs hold the same rows as the one-bucket run of the same data; one commit registers
 * the four buckets' files, which the exports join by their bytes; and a run of the same inputs
 * gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type { DatasetConfig } from '../../src/config/types';
import { quoteLiteral } from '../../src/engine/sql';
import { tableLayout } from '../../src/warehouse/layout';
import { historyLakeFolder } from '../../src/warehouse/catalog';
import { tableWorkflowId } from '../../src/workflows/ids';
import { difference } from '../support/compare';
import { type Harness, runDataset, succeeded, startHarness, tempDir, uniqueDataset, writeConfig, writeCsv } from '../support/harness';
import { activityStarts, killAllWorkers, spawnWorker, type WorkerProcess } from '../support/worker-process';

const DATES = ['2024-03-01', '2024-03-02'];
const ROWS = 40_000;
const BUCKET_ACTIVITIES = ['diffBatch'];

let h: Harness;
let dir: string;
let workers: WorkerProcess[];
const queue = `buckets-${process.pid}`;

beforeAll(async () => {
  dir = tempDir('cdcflow-buckets-');
  // Day 2 deletes every 7th row, changes every 5th and adds 3,000 new keys.
  for (const [d, date] of DATES.entries()) {
    const rows = Array.from({ length: ROWS }, (_, i) => i)
      .filter((i) => d === 0 || i % 7 !== 3)
      .map((i) => [i, `k${i % 13}`, d === 1 && i % 5 === 0 ? `changed-${i}` : `value-${i}`, i * 3]);
    if (d === 1) rows.push(...Array.from({ length: 3000 }, (_, k) => [ROWS + k, `k${k % 13}`, `new-${k}`, k]));
    const folder = path.join(dir, 'in', date);
    mkdirSync(folder, { recursive: true });
    writeCsv(path.join(folder, 'items.csv'), ['id', 'part', 'v', 'n'], rows);
  }
  h = await startHarness();
  workers = await Promise.all([spawnWorker(queue, path.join(dir, 'tmp1')), spawnWorker(queue, path.join(dir, 'tmp2'))]);
});
afterAll(async () => {
  await killAllWorkers();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function config(name: string, date: string, buckets?: number): DatasetConfig {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  const table = {
    name: 'items',
    keys: [
      { name: 'id', type: 'integer' },
      { name: 'part', type: 'varchar' },
    ],
    columns: [
      { name: 'v', type: 'varchar' },
      { name: 'n', type: 'bigint' },
    ],
    source: { format: 'csv', path: 'items.csv' },
    ...(buckets ? { buckets } : {}),
  };
  return writeConfig(folder, { dataset: name, warehouse: 'wh', tables: [table] }, path.join(dir, 'in', date));
}

async function runBoth(name: string, buckets?: number): Promise<void> {
  const settings = buckets ? { ...h.settings, taskQueue: queue } : h.settings;
  for (const date of DATES) {
    const outcome = await runDataset({ client: h.client, settings }, config(name, date, buckets), date);
    if (!outcome.ok || outcome.result.tables[0].status !== 'completed') throw new Error(`${name} ${date}: ${JSON.stringify(outcome)}\n${workers.map((w) => w.output()).join('\n')}`);
    succeeded(outcome);
  }
}

/** Worker identity → bucket activities it started, over the runs of a dataset. */
async function bucketActivityWorkers(dataset: string): Promise<Map<string, number>> {
  const byWorker = new Map<string, number>();
  for (const date of DATES) {
    for (const { type, identity } of await activityStarts(h.client, tableWorkflowId(dataset, date, 'items'))) {
      if (BUCKET_ACTIVITIES.includes(type)) byWorker.set(identity, (byWorker.get(identity) ?? 0) + 1);
    }
  }
  return byWorker;
}

/** The latest commit's data files of a catalog table part, by bucket label, in bucket order. */
function lakeFiles(warehouse: string, dataset: string, part: 'current' | 'history'): Map<string, string> {
  // History files are in their date's folder (day 2's here).
  const folder = path.join(warehouse, '_lake', dataset, `items__${part}`, part === 'history' ? historyLakeFolder(DATES[1]) : '');
  const files = readdirSync(folder).filter((f) => /^cdcflow-.*-\dof4\.parquet$/.test(f));
  const newest = new Map<string, { name: string; mtime: number }>();
  for (const name of files) {
    const label = name.slice(-'1of4.parquet'.length);
    const { mtimeMs } = statSync(path.join(folder, name));
    if (!newest.has(label) || newest.get(label)!.mtime < mtimeMs) newest.set(label, { name, mtime: mtimeMs });
  }
  return new Map([...newest].sort(([x], [y]) => x.localeCompare(y)).map(([label, f]) => [label, path.join(folder, f.name)]));
}

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const digests = (files: Map<string, string>) => new Map([...files].map(([label, file]) => [label, digest(file)]));

/** A Parquet file's bytes between its leading magic and its footer: its row groups. */
function rowGroupBytes(file: string): Buffer {
  const bytes = readFileSync(file);
  return bytes.subarray(4, bytes.length - 8 - bytes.readUInt32LE(bytes.length - 8));
}

test('a table in 4 buckets on two workers: both ran buckets, rows equal the one-bucket run, a second run gives the same bytes', async () => {
  const one = uniqueDataset('onebucket');
  const four = uniqueDataset('fourbuckets');
  const again = uniqueDataset('fouragain');
  await Promise.all([runBoth(one), runBoth(four, 4)]);
  await runBoth(again, 4);

  const expected = workers.map((w) => `${w.child.pid}@${hostname()}`).sort();
  const ran = await bucketActivityWorkers(four);
  expect([...ran.keys()].sort()).toEqual(expected);
  // Two dates, four buckets, one diff each (two slots per worker: four buckets at once need both).
  expect([...ran.values()].reduce((a, b) => a + b, 0)).toBe(DATES.length * 4 * BUCKET_ACTIVITIES.length);

  const warehouse = (name: string) => config(name, DATES[1]).warehouse;
  // The one commit of day 2 registered a state file and a history file per bucket.
  for (const part of ['current', 'history'] as const) expect([...lakeFiles(warehouse(four), four, part).keys()].sort()).toEqual(['1of4', '2of4', '3of4', '4of4'].map((l) => `${l}.parquet`));

  const parquet = (p: string) => `SELECT * FROM read_parquet(${quoteLiteral(p)}, hive_partitioning = true)`;
  const [a, b, c] = [one, four, again].map((name) => tableLayout(warehouse(name), name, 'items'));
  await h.engine.withSession(async (s) => {
    const current = await difference(s, parquet(a.current), parquet(b.current));
    const history = await difference(s, parquet(path.join(a.historyRoot, '*', '*.parquet')), parquet(path.join(b.historyRoot, '*', '*.parquet')));
    expect({ current: current.diff, history: history.diff }).toEqual({ current: 0, history: 0 });
    expect(current.rows).toBe(ROWS - Math.ceil((ROWS - 3) / 7) + 3000);
  });

  // The exports are the bucket files joined by their bytes (row groups copied in bucket order), not written again.
  for (const [part, exported] of [
    ['current', b.current],
    ['history', b.history(DATES[1])],
  ] as const) {
    const joined = rowGroupBytes(exported);
    expect(joined.equals(Buffer.concat([...lakeFiles(warehouse(four), four, part).values()].map(rowGroupBytes)))).toBe(true);
  }

  // The same inputs and bucket count give the same bytes, in the lake and in the exports.
  for (const part of ['current', 'history'] as const) expect(digests(lakeFiles(warehouse(again), again, part))).toEqual(digests(lakeFiles(warehouse(four), four, part)));
  expect(digest(c.current)).toBe(digest(b.current));
  for (const date of DATES) expect(digest(c.history(date))).toBe(digest(b.history(date)));
}, 600_000);

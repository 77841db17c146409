/**
 * The worker killed in the middle of a run and restarted: the run completes with the same
 * outputs. The crashing worker is the real CLI (`node dist/cli/main.js worker`) in a child
 * process, SIGKILLed while a stage activity of the table workflow is running; a fresh worker
 * process picks the run up (the stage is retried once its heartbeat times out). Its outputs
 * are compared byte for byte with a reference run by the in-process harness worker.
 *
 * Also: two overlapping starts of the same dataset and date give one workflow run that
 * writes history once.
 *
 * Needs dist/ (the test script builds it; run `npm run build` when running jest directly).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { startDatasetRun } from '../../src/client/start-run';
import { generate, type GenerateResult } from '../../src/generator/generate';
import type { TemporalSettings } from '../../src/settings';
import { tableLayout } from '../../src/warehouse/layout';
import { ROWS_PER_BUCKET } from '../../src/workflows/buckets';
import { datasetWorkflowId, tableWorkflowId } from '../../src/workflows/ids';
import { committedDates, generatedConfig, type Harness, runDataset, startHarness, tableResult, tempDir, uniqueDataset } from '../support/harness';
import { activityAttempts, killAllWorkers, sigkill, sleep, spawnWorker, waitForRunningActivity, withTimeout } from '../support/worker-process';

const ROWS = Number(process.env.CDCFLOW_CRASH_TEST_ROWS || 300_000);
const HEARTBEAT_TIMEOUT_SECONDS = 3;
/** The activity the worker is killed in: plan and hash, in its hash (the longest stage, seconds at 300k rows). */
const KILLED_ACTIVITY = 'runTableStages';
const TABLE = 'records';
const [DAY1, DAY2] = ['2024-01-01', '2024-01-02'];
const timings: Record<string, number> = {};
async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings[label] = Date.now() - t0;
  }
}

// ---------------------------------------------------------------- helpers

/** The generated dataset.yaml under another dataset name and warehouse, with a short heartbeat timeout. */
function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }) : [];
}

// ---------------------------------------------------------------- tests

describe('worker crash', () => {
  let h: Harness;
  let dir: string;
  let gen: GenerateResult;

  beforeAll(async () => {
    h = await startHarness();
    dir = tempDir('cdcflow-crash-');
    gen = await timed('generate', () => generate({ outDir: dir, initial: ROWS, keys: 5, nonkeys: 10, delete: 0.2, update: 0.4, unchanged: 0.4, seed: 11 }));
  });
  afterAll(async () => {
    await killAllWorkers();
    await h?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`worker-crash timings (ms, ${ROWS} rows): ${JSON.stringify(timings)}\n`);
  });

  it('the worker killed in the middle of a run and restarted: the run completes with the same outputs', async () => {
    const expected = { I: gen.expected.inserts, U: gen.expected.updates, D: gen.expected.deletes, X: 0, N: gen.expected.unchanged };
    const historyRows = expected.I + expected.U + expected.D;

    // Reference: both days with the in-process worker, into warehouse A. It runs while the
    // crash run below mostly waits (for a worker to start, a heartbeat to time out...).
    const refDataset = uniqueDataset('crash-ref');
    const refConfig = generatedConfig(gen, refDataset, path.join(dir, 'warehouse-a'), HEARTBEAT_TIMEOUT_SECONDS).at;
    const refLayout = tableLayout(path.join(dir, 'warehouse-a'), refDataset, TABLE);
    const reference = timed('reference days 1+2', async () => {
      const day1 = tableResult(await runDataset(h, refConfig('day1'), DAY1), TABLE);
      const day2 = tableResult(await runDataset(h, refConfig('day2'), DAY2), TABLE);
      return { day1, day2 };
    });
    reference.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile

    // Crash run: CLI worker processes on their own task queue, into warehouse B.
    const crashDataset = uniqueDataset('crash');
    const warehouseB = path.join(dir, 'warehouse-b');
    const crashConfig = generatedConfig(gen, crashDataset, warehouseB, HEARTBEAT_TIMEOUT_SECONDS).at;
    const settings: TemporalSettings = { ...h.settings, taskQueue: `test-crash-${crashDataset}` };
    const duckdbTmp = path.join(dir, 'duckdb-tmp');
    const layout = tableLayout(warehouseB, crashDataset, TABLE);

    const first = await timed('worker start', () => spawnWorker(settings.taskQueue, duckdbTmp));
    const day1 = await timed('crash day 1', () => runDataset({ client: h.client, settings }, crashConfig('day1'), DAY1));
    expect(tableResult(day1, TABLE).counts).toEqual({ I: gen.expected.day1Rows, U: 0, D: 0, X: 0, N: 0 });

    const { handle } = await startDatasetRun(h.client, settings, { config: crashConfig('day2'), businessDate: DAY2 });
    const childId = tableWorkflowId(crashDataset, DAY2, TABLE);
    await timed('until the kill', async () => {
      await waitForRunningActivity(h.client, childId, KILLED_ACTIVITY);
      await sleep(500); // well inside the stage, which takes seconds
      await sigkill(first);
    });

    // The run is not complete, and nothing of day 2 is committed.
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect((await h.client.workflow.getHandle(childId).describe()).status.name).toBe('RUNNING');
    expect(await committedDates(h.engine, warehouseB, crashDataset, TABLE)).toEqual([DAY1]);
    expect(existsSync(layout.history(DAY2))).toBe(false);

    const second = await timed('worker restart', () => spawnWorker(settings.taskQueue, duckdbTmp));
    const result = await timed('resume after restart', () =>
      withTimeout(handle.result(), 60_000, () => `the run did not complete after the restart; new worker's output:\n${second.output()}`),
    );
    const t = result.tables.find((o) => o.table === TABLE);
    if (t?.status !== 'completed') throw new Error(`table did not complete: ${JSON.stringify(result)}`);

    // The killed stage really was cut off and retried; every other stage ran once.
    const attempts = await activityAttempts(h.client, childId);
    expect(attempts[KILLED_ACTIVITY]).toEqual([2]);
    for (const [type, a] of Object.entries(attempts)) if (type !== KILLED_ACTIVITY) expect(a).toEqual([1]);
    // One bucket: diff and write ran inside the same activity, whatever the batch's size.
    if (ROWS < ROWS_PER_BUCKET) expect(Object.keys(attempts)).toEqual([KILLED_ACTIVITY]);

    // Same counts and the same bytes as the reference.
    const { day2: ref2 } = await reference;
    expect(ref2.counts).toEqual(expected);
    expect(ref2.historyRows).toBe(historyRows);
    expect(t.result.counts).toEqual(ref2.counts);
    expect(t.result.currentRows).toBe(ref2.currentRows);
    expect(t.result.historyRows).toBe(ref2.historyRows);
    expect(readFileSync(layout.current).equals(readFileSync(refLayout.current))).toBe(true);
    for (const d of [DAY1, DAY2]) {
      expect(readFileSync(layout.history(d)).equals(readFileSync(refLayout.history(d)))).toBe(true);
    }

    // History of day 2 holds each change once; no work files or temporary files are left.
    const [hist] = await h.engine.withSession((s) =>
      s.rows<{ n: number; keys: number }>(
        `SELECT count(*)::INT AS n, count(DISTINCT KEY_HASH)::INT AS keys ` +
          `FROM read_parquet('${path.join(layout.historyRoot, '*', '*.parquet')}', hive_partitioning = true) WHERE eff_start_date = '${DAY2}'`,
      ),
    );
    expect(hist).toEqual({ n: historyRows, keys: historyRows });
    expect(filesUnder(layout.root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(filesUnder(layout.tableWork)).toEqual([]);

    await sigkill(second);
  });

  it('two overlapping starts of the same dataset and date give one run that writes history once', async () => {
    const small = await generate({ outDir: path.join(dir, 'small'), initial: 2_000, seed: 5 });
    const dataset = uniqueDataset('overlap');
    const warehouse = path.join(dir, 'warehouse-overlap');
    const config = generatedConfig(small, dataset, warehouse, HEARTBEAT_TIMEOUT_SECONDS).at;
    tableResult(await runDataset(h, config('day1'), DAY1), TABLE);

    // Two concurrent starts, then a third while the run is certainly in progress.
    const input = { config: config('day2'), businessDate: DAY2 };
    const [a, b] = await Promise.all([startDatasetRun(h.client, h.settings, input), startDatasetRun(h.client, h.settings, input)]);
    const c = await startDatasetRun(h.client, h.settings, input);
    const running = (await c.handle.describe()).status.name;
    expect(b.runId).toBe(a.runId);
    expect(c.runId).toBe(a.runId);
    expect(running).toBe('RUNNING');
    expect(c.attached).toBe(true);
    // Exactly one of the two concurrent starts started the run; the other attached.
    expect([a.attached, b.attached].sort()).toEqual([false, true]);

    const results = await Promise.all([a, b, c].map((s) => (s.handle as WorkflowHandle).result()));
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);

    // One run of the dataset and of the table workflow; its stages (a small table's, in one activity) ran once.
    const childId = tableWorkflowId(dataset, DAY2, TABLE);
    const attempts = await activityAttempts(h.client, childId);
    expect(attempts).toEqual({ runTableStages: [1] });
    const runsOf = async (workflowId: string) => {
      // Visibility lags a little behind the run itself.
      for (let tries = 0; ; tries++) {
        const ids: string[] = [];
        for await (const wf of h.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) ids.push(wf.runId);
        if (ids.length > 0 || tries >= 50) return ids;
        await sleep(100);
      }
    };
    expect(await runsOf(datasetWorkflowId(dataset, DAY2))).toEqual([a.runId]);
    expect((await runsOf(childId)).length).toBe(1);

    const t = tableResult({ ok: true, result: results[0] }, TABLE);
    const historyRows = small.expected.inserts + small.expected.updates + small.expected.deletes;
    expect(t.historyRows).toBe(historyRows);
    const [hist] = await h.engine.withSession((s) =>
      s.rows<{ n: number; keys: number }>(
        `SELECT count(*)::INT AS n, count(DISTINCT KEY_HASH)::INT AS keys FROM read_parquet('${t.historyPath}')`,
      ),
    );
    expect(hist).toEqual({ n: historyRows, keys: historyRows });
  });
});

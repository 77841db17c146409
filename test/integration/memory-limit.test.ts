/**
 * Memory bounded by the setting: worker processes whose DuckDB may use 96 MB on one thread,
 * 150 MB on one and 192 MB on two (CSV reading, Parquet writing and sorting keep buffers per
 * thread) run a table of 300,000 rows through both days by spilling to their temp folders, with
 * the same counts and bytes as the harness worker; under 64 MB on one thread with the table in 4 key-hash buckets
 * run one at a time, with the same rows; under a limit too small for any Parquet write the run fails
 * once, as a ResourceError naming the setting, instead of ten identical retries.
 *
 * Needs dist/ (the test script builds it).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { generate, type GenerateResult } from '../../src/generator/generate';
import type { TemporalSettings } from '../../src/settings';
import { tableLayout } from '../../src/warehouse/layout';
import { tableWorkflowId } from '../../src/workflows/ids';
import { generatedConfig, type Harness, runDataset, startHarness, tableResult, tempDir, uniqueDataset } from '../support/harness';
import { difference } from '../support/compare';
import { activityAttempts, killAllWorkers, spawnWorker } from '../support/worker-process';

const ROWS = 300_000;
const TABLE = 'records';
const [DAY1, DAY2] = ['2024-01-01', '2024-01-02'];


/** Whether this process may mount a tmpfs (root, in a container that allows it): tried once on a folder of its own. */
function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = tempDir('cdcflow-mount-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe]);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

describe('DuckDB memory limit', () => {
  let h: Harness;
  let dir: string;
  let gen: GenerateResult;

  beforeAll(async () => {
    h = await startHarness();
    dir = tempDir('cdcflow-memory-');
    gen = await generate({ outDir: dir, initial: ROWS, keys: 5, nonkeys: 10, delete: 0.2, update: 0.4, unchanged: 0.4, seed: 5 });
  });
  afterAll(async () => {
    await killAllWorkers();
    await h?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A worker process with `limit` on its own queue, and the generated table's config for it. */
  async function limitedWorker(limit: string, threads: number, maxActivities?: number, spill?: string) {
    const dataset = uniqueDataset('memory');
    const warehouse = path.join(dir, `warehouse-${dataset}`);
    const settings: TemporalSettings = { ...h.settings, taskQueue: `test-${dataset}` };
    const env = { CDCFLOW_DUCKDB_MEMORY_LIMIT: limit, CDCFLOW_DUCKDB_THREADS: String(threads) };
    await spawnWorker(settings.taskQueue, spill ?? path.join(dir, `spill-${dataset}`), { env, maxActivities });
    return { dataset, warehouse, settings, config: generatedConfig(gen, dataset, warehouse, 30).at };
  }

  /** The same two days on the harness worker (DuckDB's default limit and threads), run once. */
  let reference: Promise<ReturnType<typeof tableLayout>> | undefined;
  function unlimitedRun() {
    reference ??= (async () => {
      const refDataset = uniqueDataset('memory-ref');
      const refWarehouse = path.join(dir, 'warehouse-ref');
      const ref = generatedConfig(gen, refDataset, refWarehouse, 30).at;
      tableResult(await runDataset(h, ref('day1'), DAY1), TABLE);
      tableResult(await runDataset(h, ref('day2'), DAY2), TABLE);
      return tableLayout(refWarehouse, refDataset, TABLE);
    })();
    return reference;
  }

  // 96 MB per thread is the floor for this table's shape. 150 MB on one thread failed before the
  // committed files' row groups were bounded in rows, though 128 MB passed.
  it.each([
    ['96MB', 1],
    ['150MB', 1],
    ['192MB', 2],
  ])('completes both days under %s on %i thread(s) by spilling, with the same counts and bytes as an unlimited worker', async (limit, threads) => {
    const limited = await limitedWorker(limit, threads);
    const day1 = tableResult(await runDataset({ client: h.client, settings: limited.settings }, limited.config('day1'), DAY1), TABLE);
    expect(day1.counts).toEqual({ I: gen.expected.day1Rows, U: 0, D: 0, X: 0, N: 0 });
    const day2 = tableResult(await runDataset({ client: h.client, settings: limited.settings }, limited.config('day2'), DAY2), TABLE);
    expect(day2.counts).toEqual({ I: gen.expected.inserts, U: gen.expected.updates, D: gen.expected.deletes, X: 0, N: gen.expected.unchanged });

    const a = tableLayout(limited.warehouse, limited.dataset, TABLE);
    const b = await unlimitedRun();
    expect(readFileSync(a.current).equals(readFileSync(b.current))).toBe(true);
    for (const d of [DAY1, DAY2]) expect(readFileSync(a.history(d)).equals(readFileSync(b.history(d)))).toBe(true);
  }, 300_000);

  // DuckDB's sort of this shape on one thread needs more than 64 MB for 150,000 rows and less
  // for 75,000 (the state has 240,000): four buckets, each sorting its own share, one at a time.
  it('completes both days under 64MB on one thread with the table in 4 buckets run one at a time, with the same rows as an unlimited worker', async () => {
    const limited = await limitedWorker('64MB', 1, 1);
    const inBuckets = (day: 'day1' | 'day2') => {
      const config = limited.config(day);
      return { ...config, tables: config.tables.map((t) => ({ ...t, buckets: 4 })) };
    };
    const target = { client: h.client, settings: limited.settings };
    expect(tableResult(await runDataset(target, inBuckets('day1'), DAY1), TABLE).counts).toEqual({ I: gen.expected.day1Rows, U: 0, D: 0, X: 0, N: 0 });
    const day2 = tableResult(await runDataset(target, inBuckets('day2'), DAY2), TABLE);
    expect(day2.counts).toEqual({ I: gen.expected.inserts, U: gen.expected.updates, D: gen.expected.deletes, X: 0, N: gen.expected.unchanged });

    const a = tableLayout(limited.warehouse, limited.dataset, TABLE);
    const b = await unlimitedRun();
    const files = [[a.current, b.current], ...[DAY1, DAY2].map((d) => [a.history(d), b.history(d)])];
    for (const [mine, reference] of files) {
      const { diff, rows } = await h.engine.withSession((s) => difference(s, `SELECT * FROM read_parquet('${mine}')`, `SELECT * FROM read_parquet('${reference}')`));
      expect({ file: mine, diff, rows: rows > 0 }).toEqual({ file: mine, diff: 0, rows: true });
    }
  }, 300_000);

  it('out of memory is reported once, naming the setting, not retried', async () => {
    const limited = await limitedWorker('8MB', 2);
    const outcome = await runDataset({ client: h.client, settings: limited.settings }, limited.config('day1'), DAY1);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toMatch(/ran out of memory under CDCFLOW_DUCKDB_MEMORY_LIMIT=8MB: raise CDCFLOW_DUCKDB_MEMORY_LIMIT/);
    const attempts = await activityAttempts(h.client, tableWorkflowId(limited.dataset, DAY1, TABLE));
    const failed = Object.values(attempts).flat();
    expect(Math.max(...failed)).toBe(1);
  });

  // A small file system of its own for the spill folder: mounting one needs root, and a container that lets root mount.
  (canMountTmpfs() ? it : it.skip)('a spill folder that fills up is reported as such, naming the folder and the room it had, not as memory to raise', async () => {
    const spill = path.join(dir, 'small-spill');
    mkdirSync(spill);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', spill]);
    try {
      const limited = await limitedWorker('96MB', 1, undefined, spill);
      const outcome = await runDataset({ client: h.client, settings: limited.settings }, limited.config('day1'), DAY1);
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      // The old message began "the diff stage ran out of memory under CDCFLOW_DUCKDB_MEMORY_LIMIT=96MB: raise CDCFLOW_DUCKDB_MEMORY_LIMIT".
      expect(outcome.error).toMatch(
        new RegExp(`the \\w+ stage filled the spill folder: DuckDB had spilled [\\d.]+ \\w+ into ${spill} \\(CDCFLOW_DUCKDB_TEMP_DIR\\), all the room it had there \\([\\d.]+ \\w+\\), and needed more\\.`),
      );
      expect(outcome.error).not.toContain('ran out of memory');
    } finally {
      await killAllWorkers();
      execFileSync('umount', [spill]);
    }
  }, 120_000);
});

/**
 * The generator's 10,000-record example through the real workflow: day 1 all inserts, day 2
 * the exact mix, then idempotence: a re-run and a retried stage leave identical outputs.
 */
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/load';
import type { DatasetConfig } from '../../src/config/types';
import { generate } from '../../src/generator/generate';
import type { StageName } from '../../src/activities/stage-runner';
import { type Harness, readRows, renameDataset, runDataset, startHarness, tableResult, tempDir, uniqueDataset } from '../support/harness';

describe('generated 10,000-record example', () => {
  let h: Harness;
  let dir: string;
  let config: (day: 'day1' | 'day2') => DatasetConfig;
  const failOnce = new Set<StageName>();

  beforeAll(async () => {
    h = await startHarness({
      beforeStage: (stage, attempt) => {
        if (attempt === 1 && failOnce.delete(stage)) throw new Error(`injected failure in ${stage}`);
      },
    });
    dir = tempDir();
    await generate({ outDir: dir, initial: 10_000, keys: 5, nonkeys: 10, delete: 0.2, update: 0.4, unchanged: 0.4, seed: 7 });
    const dataset = uniqueDataset('gen');
    config = (day) => renameDataset(loadConfig(path.join(dir, 'dataset.yaml'), { inputDir: path.join(dir, day) }), dataset);
  });
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let day2Current: Buffer;
  let day2History: Buffer;

  it('day 1 inserts every record', async () => {
    const out = await runDataset(h, config('day1'), '2024-01-01');
    const t = tableResult(out, 'records');
    expect(t.counts).toEqual({ I: 10_000, U: 0, D: 0, X: 0, N: 0 });
    expect(t.currentRows).toBe(10_000);
  });

  it('day 2 gives 2,000 I, 4,000 U, 4,000 N, 2,000 D', async () => {
    const out = await runDataset(h, config('day2'), '2024-01-02');
    const t = tableResult(out, 'records');
    expect(t.counts).toEqual({ I: 2_000, U: 4_000, D: 2_000, X: 0, N: 4_000 });
    expect(t.currentRows).toBe(10_000);
    expect(t.historyRows).toBe(8_000);
    const [current] = await h.engine.withSession((s) =>
      s.rows<{ n: number; ops: string }>(`SELECT count(*)::INT AS n, string_agg(DISTINCT OPERATION, '' ORDER BY OPERATION) AS ops FROM read_parquet('${t.currentPath}')`),
    );
    expect(current).toEqual({ n: 10_000, ops: 'INU' });
    const history = await h.engine.withSession((s) =>
      s.rows(`SELECT OPERATION AS op, count(*)::INT AS n FROM read_parquet('${t.historyPath}') GROUP BY 1 ORDER BY 1`),
    );
    expect(history).toEqual([{ op: 'D', n: 2_000 }, { op: 'I', n: 2_000 }, { op: 'U', n: 4_000 }]);
    day2Current = readFileSync(t.currentPath);
    day2History = readFileSync(t.historyPath);
  });

  it('re-running day 2 diffs against day 1 again and leaves identical outputs', async () => {
    const out = await runDataset(h, config('day2'), '2024-01-02');
    const t = tableResult(out, 'records');
    expect(t.counts).toEqual({ I: 2_000, U: 4_000, D: 2_000, X: 0, N: 4_000 });
    expect(t.baseDate).toBe('2024-01-01');
    expect(readFileSync(t.currentPath).equals(day2Current)).toBe(true);
    expect(readFileSync(t.historyPath).equals(day2History)).toBe(true);
  });

  it.each<StageName>(['hash', 'diff', 'write'])('a failed %s stage is retried and the outputs stay identical', async (stage) => {
    failOnce.add(stage);
    const out = await runDataset(h, config('day2'), '2024-01-02');
    expect(failOnce.has(stage)).toBe(false);
    const t = tableResult(out, 'records');
    expect(t.counts).toEqual({ I: 2_000, U: 4_000, D: 2_000, X: 0, N: 4_000 });
    expect(readFileSync(t.currentPath).equals(day2Current)).toBe(true);
    expect(readFileSync(t.historyPath).equals(day2History)).toBe(true);
    const rows = await readRows(h.engine, path.join(path.dirname(t.historyPath), '..', '*', '*.parquet'), 'eff_start_date, OPERATION, key_1');
    expect(rows.filter((r) => r.eff_start_date === '2024-01-02')).toHaveLength(8_000);
    expect(rows.filter((r) => r.eff_start_date === '2024-01-01')).toHaveLength(10_000);
  });

  it('refuses a date older than the latest committed one, naming both', async () => {
    const out = await runDataset(h, config('day1'), '2023-12-31');
    expect(out.ok).toBe(false);
    const failed = out.result?.tables.find((t) => t.table === 'records');
    expect(failed).toMatchObject({ status: 'failed' });
    expect(failed && 'error' in failed ? failed.error : '').toMatch(/2023-12-31 is older than the latest committed date 2024-01-02/);
  });
});

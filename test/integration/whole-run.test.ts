/**
 * A small table's run in one activity (runTableStages): the table workflow's history holds one
 * activity, and the run commits what the same table run with one activity per stage commits
 * (a `buckets: 2` twin of the table reads the same files). Its inner stages keep their outputs
 * durable: a failure after the inner hash is retried without hashing again; the delete guard
 * refuses inside it with the per-stage path's message; a failing stage is named in the failure.
 */
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { StageName } from '../../src/activities/stage-runner';
import { tableLayout } from '../../src/warehouse/layout';
import { startDatasetRun } from '../../src/client/start-run';
import { heartbeatStage } from '../../src/client/progress';
import { tableWorkflowId } from '../../src/workflows/ids';
import { committedDates, datasetFolders, type Harness, readRows, runDataset, startHarness, succeeded, tableResult, writeLines } from '../support/harness';
import { activityAttempts, sleep } from '../support/worker-process';

const [DAY1, DAY2, DAY3, DAY4] = ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04'];

describe('a small table runs its stages in one activity', () => {
  let h: Harness;
  const folders = datasetFolders('whole');
  const failOnce = new Set<StageName>();
  /** A stage held at its start until the promise settles. */
  const holdAt = new Map<StageName, Promise<void>>();

  beforeAll(async () => {
    h = await startHarness({
      beforeStage: async (stage, attempt) => {
        if (attempt === 1 && failOnce.delete(stage)) throw new Error(`injected failure before the ${stage} stage`);
        await holdAt.get(stage);
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
    folders.removeAll();
  });

  // Both tables read the same files; `split` runs its diff and write as activities of their own.
  const source = { format: 'csv', path: 'data/{date}.csv' };
  const table = (name: string, more: object = {}) => ({ name, keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source, ...more });
  const { dir, config } = folders.setup([table('whole'), table('split', { buckets: 2 })]);
  const day = (date: string, ...rows: string[]) => writeLines(path.join(dir, 'data', `${date}.csv`), ['id,v', ...rows]);
  const attemptsOf = (name: string, date: string) => activityAttempts(h.client, tableWorkflowId(config.dataset, date, name));
  const layoutOf = (name: string) => tableLayout(config.warehouse, config.dataset, name);

  /** The table run's own failure (what the Temporal UI shows for it). */
  async function tableRunFailure(name: string, date: string): Promise<{ type?: string; message: string }> {
    try {
      await h.client.workflow.getHandle(tableWorkflowId(config.dataset, date, name)).result();
    } catch (err) {
      const cause = (err instanceof WorkflowFailedError ? err.cause : err) as { type?: string; message: string };
      return { type: cause.type, message: cause.message };
    }
    throw new Error(`${name} ${date} did not fail`);
  }

  it('one activity in the history, and the same counts and committed rows as a stage per activity', async () => {
    day(DAY1, '1,a', '2,b', '3,c', '4,d', '5,e', '6,f');
    day(DAY2, '1,a', '2,B', '3,c', '4,d', '5,e', '7,g');
    for (const date of [DAY1, DAY2]) {
      const out = succeeded(await runDataset(h, config, date));
      const [whole, split] = [tableResult(out, 'whole'), tableResult(out, 'split')];
      expect(await attemptsOf('whole', date)).toEqual({ runTableStages: [1] });
      expect(await attemptsOf('split', date)).toEqual({ runTableStages: [1], diffBatch: [1, 1], writeOutputs: [1] });
      const comparable = ({ counts, currentRows, historyRows, baseDate, skippedStages, rebases }: typeof whole) => ({ counts, currentRows, historyRows, baseDate, skippedStages, rebases });
      expect(comparable(whole)).toEqual(comparable(split));
      expect(whole.skippedStages).toEqual([]);
      expect(whole.currentPath).toBe(layoutOf('whole').current);
    }
    const rows = (file: string) => readRows(h.engine, file, 'id');
    expect(await rows(layoutOf('whole').current)).toEqual(await rows(layoutOf('split').current));
    expect(await rows(layoutOf('whole').history(DAY2))).toEqual(await rows(layoutOf('split').history(DAY2)));
    // Running the date again finds its commit done (the same fingerprint on the same base).
    const again = tableResult(succeeded(await runDataset(h, config, DAY2, ['whole'])), 'whole');
    expect(again.counts).toEqual({ I: 1, U: 1, D: 1, X: 0, N: 4 });
    expect(again.skippedStages).toEqual(['write']);
  });

  it('a failure after the inner hash: the activity is retried, plans again and reuses the committed hash', async () => {
    day(DAY3, '1,a', '2,B', '3,C', '4,d', '5,e', '7,g', '8,h');
    failOnce.add('diff');
    const whole = tableResult(succeeded(await runDataset(h, config, DAY3, ['whole'])), 'whole');
    expect(failOnce.has('diff')).toBe(false);
    // One activity, its second attempt (the history records an activity's last attempt only).
    expect(await attemptsOf('whole', DAY3)).toEqual({ runTableStages: [2] });
    expect(whole.skippedStages).toEqual(['hash']);
    expect(whole.counts).toEqual({ I: 1, U: 1, D: 0, X: 0, N: 5 });
    expect(whole.baseDate).toBe(DAY2);
  });

  it('the delete guard refuses inside the activity, with the message of the per-stage path; a failing stage is named', async () => {
    succeeded(await runDataset(h, config, DAY3, ['split']));
    day(DAY4, '1,a', '2,B');
    expect((await runDataset(h, config, DAY4)).ok).toBe(false);
    expect(await attemptsOf('whole', DAY4)).toEqual({ runTableStages: [1] });
    expect(await attemptsOf('split', DAY4)).toEqual({ runTableStages: [1], diffBatch: [1, 1] });
    const [whole, split] = [await tableRunFailure('whole', DAY4), await tableRunFailure('split', DAY4)];
    expect(whole).toEqual({
      type: 'DataError',
      message: `the full snapshot would delete 5 of 7 keys (71.4%), more than maxDeleteShare 0.5 (50%); nothing was written. If this is intended, run again with --allow-deletes, or set allowDeletes or maxDeleteShare in the config. (dataset=${config.dataset} table=whole businessDate=${DAY4})`,
    });
    expect(split).toEqual({ ...whole, message: whole.message.replace('table=whole', 'table=split') });
    expect(await committedDates(h.engine, config.warehouse, config.dataset, 'whole')).toEqual([DAY1, DAY2, DAY3]);

    // A bad value: the failure names the inner stage, as a hash activity's failure does.
    day(DAY4, '1,a', 'two,b');
    await runDataset(h, config, DAY4);
    for (const name of ['whole', 'split']) {
      expect(await tableRunFailure(name, DAY4)).toEqual({ type: 'DataError', message: expect.stringMatching(/^hash failed: value "two" in column "id" /) });
    }
    expect(await attemptsOf('whole', DAY4)).toEqual({ runTableStages: [1] });
  });

  it("run's progress line names the inner stage within seconds, not at the heartbeat's 10-second throttle", async () => {
    day('2024-02-01', '1,a', '2,B', '3,C', '4,d', '5,e', '7,g', '8,h');
    let release = () => {};
    holdAt.set('diff', new Promise<void>((resolve) => (release = resolve)));
    const run = startDatasetRun(h.client, h.settings, { config, businessDate: '2024-02-01', tables: ['whole'] });
    try {
      const handle = h.client.workflow.getHandle(tableWorkflowId(config.dataset, '2024-02-01', 'whole'));
      const shown = async () => heartbeatStage((await handle.describe().catch(() => undefined))?.raw.pendingActivities ?? []);
      // Held before its diff, the activity last heartbeated its hash (the plan's came first, at once).
      const started = Date.now();
      while ((await shown()) !== 'hash' && Date.now() - started < 6_000) await sleep(200);
      expect(await shown()).toBe('hash');
    } finally {
      holdAt.delete('diff');
      release();
    }
    expect((await (await run).handle.result()).tables.map((t) => t.status)).toEqual(['completed']);
  });
});

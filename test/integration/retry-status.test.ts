/**
 * `cdcflow retry` re-runs only the tables that failed (after the input is fixed), and the
 * outputs are then those of a run that never failed; `cdcflow status` lists the runs per table
 * and date with their state and counts; a cancelled table run stays cancelled.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { startDatasetRun } from '../../src/client/start-run';
import { loadConfig } from '../../src/config/load';
import { scheduleId } from '../../src/client/schedules/schedule-ids';
import { tableWorkflowId } from '../../src/workflows/ids';
import { BUSINESS_DATE_KEY } from '../../src/workflows/search-attributes';
import { signalDatasetQueue } from '../../src/client/dataset-queue';
import { backfillSignal } from '../../src/workflows/backfill';
import { dumpFinished, waitForDump } from '../support/backfill';
import { cdcflow } from '../support/cli';
import { type Harness, readRows, renameDataset, runDataset, startHarness, tempDir, uniqueDataset, writeConfig, writeCsv } from '../support/harness';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('cdcflow retry and status', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.stop());

  const env = () => ({ TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue });

  it('re-runs only the failed table; the outputs then equal an unfailed run', async () => {
    const dir = tempDir();
    const dataset = uniqueDataset('retry');
    const table = (name: string) => ({ name, keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'amount', type: 'decimal(8,2)' }], source: { format: 'csv', path: `{date}/${name}.csv` } });
    const configPath = path.join(dir, 'dataset.yaml');
    writeFileSync(configPath, stringify({ dataset, warehouse: 'wh', tables: [table('orders'), table('refunds')] }));
    const good = { orders: [[1, '10.50'], [2, '3.00']], refunds: [[7, '1.25'], [8, '2.00']] };
    const write = (date: string, refunds: (string | number)[][]) => {
      writeCsv(path.join(dir, date, 'orders.csv'), ['id', 'amount'], good.orders);
      writeCsv(path.join(dir, date, 'refunds.csv'), ['id', 'amount'], refunds);
    };
    mkdirSync(path.join(dir, '2024-01-01'));
    write('2024-01-01', [[7, '1.25'], [8, 'two euros']]);

    const config = loadConfig(configPath);
    const failed = await runDataset(h, config, '2024-01-01');
    expect(failed).toMatchObject({ ok: false });
    expect(failed.ok || failed.error).toMatch(/refunds: .*two euros/);
    const ordersBefore = await h.client.workflow.getHandle(tableWorkflowId(dataset, '2024-01-01', 'orders')).describe();

    const notFailed = await cdcflow(['retry', '--config', configPath, '--date', '2024-01-01', '--tables', 'orders'], env());
    expect(notFailed.code).toBe(1);
    expect(notFailed.stderr).toContain('orders did not fail on 2024-01-01 (failed: refunds)');
    const noneNamed = await cdcflow(['retry', '--config', configPath, '--date', '2024-01-01', '--tables', ''], env());
    expect(noneNamed.code).toBe(1);
    expect(noneNamed.stderr).toContain(`--tables names no table (tables of ${dataset}: orders, refunds); leave it out for all of them`);

    write('2024-01-01', good.refunds);
    const retried = await cdcflow(['retry', '--config', configPath, '--date', '2024-01-01'], env());
    expect(retried.code).toBe(0);
    expect(retried.stderr).toContain(`retrying refunds of ${dataset} 2024-01-01`);
    expect(retried.stdout).toMatch(/refunds\s+full\s+2\s+0\s+0\s+0\s+0/);
    expect(retried.stdout).not.toMatch(/^orders/m);
    const ordersAfter = await h.client.workflow.getHandle(tableWorkflowId(dataset, '2024-01-01', 'orders')).describe();
    expect(ordersAfter.runId).toBe(ordersBefore.runId);

    const again = await cdcflow(['retry', '--config', configPath, '--date', '2024-01-01'], env());
    expect(again).toMatchObject({ code: 0, stdout: `nothing to retry: no table of ${dataset} failed on 2024-01-01\n` });

    const clean = renameDataset(config, uniqueDataset('clean'));
    expect((await runDataset(h, clean, '2024-01-01')).ok).toBe(true);
    for (const name of ['orders', 'refunds']) {
      for (const part of ['current.parquet', 'history/*/*.parquet']) {
        const rows = (ds: string) => readRows(h.engine, path.join(dir, 'wh', ds, name, part), 'id');
        expect(await rows(dataset)).toEqual(await rows(clean.dataset));
      }
    }

    // status: the visibility store may lag the runs that just ended by a moment.
    let status: { runs: { kind: string; table?: string; businessDate?: string; state: string; counts?: { inserts: number } }[] } = { runs: [] };
    for (let i = 0; i < 50 && !status.runs.some((r) => r.table === 'refunds' && r.state === 'COMPLETED'); i++) {
      if (i) await sleep(200);
      status = JSON.parse((await cdcflow(['status', '--config', configPath, '--days', '1', '--json'], env())).stdout);
    }
    const refunds = status.runs.filter((r) => r.table === 'refunds').map((r) => [r.state, r.counts?.inserts]);
    expect(refunds).toEqual([['COMPLETED', 2], ['FAILED', undefined]]);
    expect(status.runs.filter((r) => r.kind === 'dataset').map((r) => r.state)).toEqual(['COMPLETED', 'FAILED']);
    const plain = await cdcflow(['status', '--config', configPath, '--days', '1'], env());
    expect(plain.stdout).toMatch(/2024-01-01\s+refunds\s+COMPLETED\s+2\s+0\s+0\s+0\s+\d+\.\d\s+http:\/\/\S+refunds/);
    const badDays = await cdcflow(['status', '--config', configPath, '--days', 'a week'], env());
    expect(badDays).toMatchObject({ code: 1, stderr: expect.stringContaining("option '--days <n>' argument 'a week' is invalid. not an integer.") });
  });

  it("re-runs each failed table in the mode its failed run used: a schedule's full beside a change-record table", async () => {
    const dir = tempDir();
    const dataset = uniqueDataset('retry-mode');
    const configPath = path.join(dir, 'dataset.yaml');
    const plain = { keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }] };
    writeFileSync(
      configPath,
      stringify({
        dataset,
        warehouse: 'wh',
        mode: 'delta',
        tables: [
          { name: 'a', ...plain, source: { format: 'csv', path: 'a/{date}.csv' } },
          { name: 'c', mode: 'changes', ...plain, orderBy: [{ name: 'seq', type: 'bigint' }], source: { format: 'csv', path: 'c/{date}.csv' } },
        ],
        schedules: [{ name: 'weekly-full', every: '7d', mode: 'full', paused: true }],
      }),
    );
    for (const t of ['a', 'c']) mkdirSync(path.join(dir, t));
    writeCsv(path.join(dir, 'a', '2024-04-01.csv'), ['id', 'v'], [[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']]);
    writeCsv(path.join(dir, 'c', '2024-04-01.csv'), ['op', 'seq', 'id', 'v'], [['I', 1, 1, 'x']]);
    expect((await runDataset(h, loadConfig(configPath), '2024-04-01')).ok).toBe(true);

    writeCsv(path.join(dir, 'a', '2024-04-02.csv'), ['id', 'v'], [[1, 'a'], [2, 'b'], [3, 'c'], ['bad', 'd']]);
    writeCsv(path.join(dir, 'c', '2024-04-02.csv'), ['op', 'seq', 'id', 'v'], [['Q', 2, 1, 'y']]);
    const backfill = await cdcflow(['schedule', 'backfill', '--config', configPath, '--from', '2024-04-02', '--to', '2024-04-02', '--name', 'weekly-full'], env());
    expect(backfill.code).toBe(1);
    expect(backfill.stdout).toMatch(/a: FAILED: .*"bad"/);
    expect(backfill.stdout).toMatch(/c: FAILED: .*unknown operation "Q"/);

    writeCsv(path.join(dir, 'a', '2024-04-02.csv'), ['id', 'v'], [[1, 'a'], [2, 'b'], [3, 'c']]);
    writeCsv(path.join(dir, 'c', '2024-04-02.csv'), ['op', 'seq', 'id', 'v'], [['U', 2, 1, 'y']]);
    const retried = await cdcflow(['retry', '--config', configPath, '--date', '2024-04-02'], env());
    // Full, as the schedule's run was: key 4 is deleted, not kept as absent from a delta (X).
    expect(retried.stdout).toMatch(/^a\s+full\s+0\s+0\s+1\s+0\s+3\s/m);
    expect(retried.stdout).toMatch(/^c\s+changes\s+0\s+1\s+0\s+0\s+0\s/m);
    expect(retried.code).toBe(0);
    expect(retried.stderr).toContain(`retrying a (full mode), c of ${dataset} 2024-04-02`);
  });

  it('keeps the --allow-deletes of the failed run, and takes --allow-deletes itself', async () => {
    const dir = tempDir();
    const dataset = uniqueDataset('retry-deletes');
    const configPath = path.join(dir, 'dataset.yaml');
    writeFileSync(
      configPath,
      stringify({ dataset, warehouse: 'wh', tables: [{ name: 't', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: '{date}.csv' } }] }),
    );
    const config = loadConfig(configPath);
    writeCsv(path.join(dir, '2024-03-01.csv'), ['id', 'v'], [[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd'], [5, 'e']]);
    expect((await runDataset(h, config, '2024-03-01')).ok).toBe(true);

    // Approved, but the file has a bad value; fixed, it deletes 3 of 5 keys (more than half).
    writeCsv(path.join(dir, '2024-03-02.csv'), ['id', 'v'], [[1, 'a'], ['two', 'b']]);
    expect(await runDataset(h, config, '2024-03-02', undefined, { allowDeletes: true })).toMatchObject({ ok: false });
    writeCsv(path.join(dir, '2024-03-02.csv'), ['id', 'v'], [[1, 'a'], [2, 'b']]);
    const kept = await cdcflow(['retry', '--config', configPath, '--date', '2024-03-02'], env());
    expect(kept.stdout).toMatch(/^t\s+full\s+0\s+0\s+3\s+0\s+2\s/m);
    expect(kept.code).toBe(0);
    expect(kept.stderr).toContain(`retrying t (--allow-deletes) of ${dataset} 2024-03-02`);
    const memo = (await h.client.workflow.getHandle(tableWorkflowId(dataset, '2024-03-02', 't')).describe()).memo;
    expect(memo?.deleteGuardOverridden).toContain('would delete 3 of 5 keys');

    // That approval was the retry's alone: a dump sent without a config (from the UI) runs with
    // the config the dataset's queue last received, the retry's, and the guard still applies.
    await signalDatasetQueue(h.client, h.settings.taskQueue, dataset, backfillSignal, [{ requestId: 'ui', businessDate: '2024-03-02' }]);
    const dump = await waitForDump(h, dataset, 'ui', dumpFinished);
    expect(dump).toMatchObject({ state: 'failed', error: expect.stringContaining('would delete 3 of 5 keys') });

    // Refused by the guard, not approved: the retry approves it.
    writeCsv(path.join(dir, '2024-03-03.csv'), ['id', 'v'], []);
    expect(await runDataset(h, config, '2024-03-03')).toMatchObject({ ok: false, error: expect.stringContaining('the full snapshot has no rows') });
    const approved = await cdcflow(['retry', '--config', configPath, '--date', '2024-03-03', '--allow-deletes'], env());
    expect(approved.stdout).toMatch(/^t\s+full\s+0\s+0\s+2\s+0\s+0\s/m);
    expect(approved.code).toBe(0);
    expect(approved.stderr).toContain(`retrying t of ${dataset} 2024-03-03`);
  });

  /** A worker whose stages wait until `release`, so that a run on it can be terminated while its first table runs. */
  async function heldWorker(): Promise<{ slow: Harness; slowEnv: Record<string, string>; release: () => void }> {
    let letGo = () => {};
    const held = new Promise<void>((resolve) => (letGo = resolve));
    let holding = true;
    const slow = await startHarness({ beforeStage: () => (holding ? held : undefined) });
    const release = () => {
      holding = false;
      letGo();
    };
    return { slow, slowEnv: { TEMPORAL_ADDRESS: slow.settings.address, CDCFLOW_TASK_QUEUE: slow.settings.taskQueue }, release };
  }

  /** A dataset of three one-row tables (big, s1, s2) run one at a time; returns its config's path. */
  function threeTables(dataset: string, extra: object = {}): string {
    const dir = tempDir();
    const names = ['big', 's1', 's2'];
    for (const name of names) writeCsv(path.join(dir, `${name}.csv`), ['id', 'v'], [[1, name]]);
    const table = (name: string) => ({ name, keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: `${name}.csv` } });
    const configPath = path.join(dir, 'dataset.yaml');
    writeFileSync(configPath, stringify({ dataset, warehouse: 'wh', maxConcurrentTables: 1, tables: names.map(table), ...extra }));
    return configPath;
  }

  /** Terminates the dataset run once its first table (big) has started, then lets the held worker go. */
  async function terminateAfterFirstTable(slow: Harness, runId: string, dataset: string, date: string, release: () => void): Promise<void> {
    const big = slow.client.workflow.getHandle(tableWorkflowId(dataset, date, 'big'));
    for (let i = 0; i < 100 && !(await big.describe().catch(() => undefined)); i++) await sleep(100);
    await slow.client.workflow.getHandle(runId).terminate('operator stopped it');
    release();
    // The server ends the child after its parent, a moment later.
    for (let i = 0; i < 100 && (await big.describe()).status.name === 'RUNNING'; i++) await sleep(100);
    expect((await big.describe()).status.name).toBe('TERMINATED');
  }

  const completed = (name: string, mode = 'full') => new RegExp(`^${name}\\s+${mode}\\s+1\\s+0\\s+0\\s+0\\s+0\\s`, 'm');

  it('after a terminated dataset run, also re-runs the tables it never started', async () => {
    const { slow, slowEnv, release } = await heldWorker();
    try {
      const dataset = uniqueDataset('retry-terminated');
      const configPath = threeTables(dataset);
      const { handle } = await startDatasetRun(slow.client, slow.settings, { config: loadConfig(configPath), businessDate: '2024-05-01' });
      await terminateAfterFirstTable(slow, handle.workflowId, dataset, '2024-05-01', release);
      // A table added to the config since was never the run's to start: not retried as "never started".
      const doc = parse(readFileSync(configPath, 'utf8')) as { tables: { name: string; source: { path: string } }[] };
      writeCsv(path.join(path.dirname(configPath), 'added.csv'), ['id', 'v'], [[1, 'added']]);
      writeFileSync(configPath, stringify({ ...doc, tables: [...doc.tables, { ...doc.tables[0], name: 'added', source: { ...doc.tables[0].source, path: 'added.csv' } }] }));

      // Narrowed to a table that never started; the others are still found afterwards.
      const first = await cdcflow(['retry', '--config', configPath, '--date', '2024-05-01', '--tables', 's1'], slowEnv);
      expect(first.stdout).toMatch(completed('s1'));
      expect(first.code).toBe(0);
      expect(first.stderr).toContain(`retrying s1 (never started) of ${dataset} 2024-05-01`);
      const rest = await cdcflow(['retry', '--config', configPath, '--date', '2024-05-01'], slowEnv);
      for (const name of ['big', 's2']) expect(rest.stdout).toMatch(completed(name));
      expect(rest.stdout).not.toMatch(/^added/m);
      expect(rest.code).toBe(0);
      expect(rest.stderr).toContain(`retrying big, s2 (never started) of ${dataset} 2024-05-01`);
      const again = await cdcflow(['retry', '--config', configPath, '--date', '2024-05-01'], slowEnv);
      expect(again).toMatchObject({ code: 0, stdout: `nothing to retry: no table of ${dataset} failed on 2024-05-01\n` });
    } finally {
      release();
      await slow.stop();
    }
  });

  it('after a terminated scheduled run, also re-runs the tables it never started, in the schedule\'s mode', async () => {
    const { slow, slowEnv, release } = await heldWorker();
    const dataset = uniqueDataset('retry-scheduled');
    try {
      const configPath = threeTables(dataset, { schedules: [{ name: 'nightly', every: '1d', mode: 'delta', paused: true }] });
      expect(await cdcflow(['schedule', 'apply', '--config', configPath], slowEnv)).toMatchObject({ code: 0 });
      expect(await cdcflow(['schedule', 'trigger', '--config', configPath], slowEnv)).toMatchObject({ code: 0 });
      const schedule = slow.client.schedule.getHandle(scheduleId(dataset, 'nightly'));
      let workflowId: string | undefined;
      while (!(workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId)) await sleep(100);
      let date: string | undefined;
      while (!(date = (await slow.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(BUSINESS_DATE_KEY))) await sleep(100);
      await terminateAfterFirstTable(slow, workflowId, dataset, date, release);
      // The scheduled run is found through the visibility store, which lists it a moment after it ends.
      const query = `WorkflowId = "${workflowId}" AND ExecutionStatus = "Terminated"`;
      while ((await slow.client.workflow.count(query)).count === 0) await sleep(100);

      const retried = await cdcflow(['retry', '--config', configPath, '--date', date], slowEnv);
      expect(retried.stderr).toContain(`retrying big (delta mode), s1 (never started; delta mode), s2 (never started; delta mode) of ${dataset} ${date}`);
      for (const name of ['big', 's1', 's2']) expect(retried.stdout).toMatch(completed(name, 'delta'));
      expect(retried.code).toBe(0);
    } finally {
      release();
      await slow.client.schedule.getHandle(scheduleId(dataset, 'nightly')).delete().catch(() => undefined);
      await slow.stop();
    }
  });

  it('a cancelled table run ends cancelled, not restated as a failure', async () => {
    const slow = await startHarness({ beforeStage: (stage) => (stage === 'hash' ? sleep(1500) : undefined) });
    try {
      const dir = tempDir();
      const dataset = uniqueDataset('cancel');
      writeCsv(path.join(dir, 'items.csv'), ['id', 'v'], [[1, 'a']]);
      const config = writeConfig(dir, { dataset, warehouse: 'wh', tables: [{ name: 'items', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: 'items.csv' } }] });
      const outcome = runDataset(slow, config, '2024-01-01');
      const table = slow.client.workflow.getHandle(tableWorkflowId(dataset, '2024-01-01', 'items'));
      for (let i = 0; i < 50 && !(await table.describe().catch(() => undefined)); i++) await sleep(100);
      await table.cancel();
      expect(await outcome).toMatchObject({ ok: false });
      expect((await table.describe()).status.name).toBe('CANCELLED');
    } finally {
      await slow.stop();
    }
  });
});

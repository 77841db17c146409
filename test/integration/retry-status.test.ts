/**
 * `cdcflow retry` re-runs only the tables that failed (after the input is fixed), and the
 * outputs are then those of a run that never failed; `cdcflow status` lists the runs per table
 * and date with their state and counts; a cancelled table run stays cancelled.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load';
import { tableWorkflowId } from '../../src/workflows/ids';
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

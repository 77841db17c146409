/**
 * Operating a server and a worker: `cdcflow setup` registers the search attributes on a
 * namespace that has none (and changes nothing the second time); `cdcflow worker` with
 * CDCFLOW_METRICS_PORT serves the SDK's metrics and cdcflow's own counters for Prometheus.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import { msToTs } from '@temporalio/common/lib/time';
import { startDatasetRun } from '../../src/client/start-run';
import { cdcflow } from '../support/cli';
import { type Harness, startHarness, tempDir, uniqueDataset, writeConfig, writeCsv } from '../support/harness';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('cdcflow setup and worker metrics', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.stop());

  it('setup registers the search attributes on a fresh namespace, and is a no-op the second time', async () => {
    const namespace = `setup-${randomUUID().slice(0, 8)}`;
    await h.client.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const env = { TEMPORAL_ADDRESS: h.settings.address, TEMPORAL_NAMESPACE: namespace };
    let first = await cdcflow(['setup'], env);
    // A new namespace takes a moment to reach every service of the server.
    for (let i = 0; i < 50 && first.code !== 0 && /namespace/i.test(first.stderr); i++) {
      await sleep(200);
      first = await cdcflow(['setup'], env);
    }
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain('added    CdcflowDataset (KEYWORD)');
    expect(first.stdout).toContain('added    CdcflowDeletes (INT)');
    const { customAttributes } = await h.client.connection.operatorService.listSearchAttributes({ namespace });
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(['CdcflowDataset', 'CdcflowInserts', 'CdcflowRows']));

    const second = await cdcflow(['setup'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('added');
    expect(second.stdout.trim().split('\n')).toHaveLength(9);
  });

  it('the worker serves runtime metrics and rows and operations per table on CDCFLOW_METRICS_PORT', async () => {
    const port = await freePort();
    const taskQueue = `metrics-${randomUUID()}`;
    const worker = spawn(process.execPath, [CLI, 'worker'], {
      env: { ...process.env, TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: taskQueue, CDCFLOW_METRICS_PORT: String(port), CDCFLOW_METRICS_HOST: '127.0.0.1', CDCFLOW_WORKFLOW_BUNDLE: process.env.CDCFLOW_TEST_WORKFLOW_BUNDLE ?? '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    worker.stderr.on('data', (d) => (stderr += d));
    try {
      const dir = tempDir();
      const dataset = uniqueDataset('metrics');
      writeCsv(path.join(dir, 'items.csv'), ['id', 'v'], [[1, 'a'], [2, 'b'], [3, 'c']]);
      const config = writeConfig(dir, { dataset, warehouse: 'wh', tables: [{ name: 'items', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: 'items.csv' } }] });
      const { handle } = await startDatasetRun(h.client, { ...h.settings, taskQueue }, { config, businessDate: '2024-01-01' });
      await handle.result();
      expect(stderr).toContain(`metrics for Prometheus: http://127.0.0.1:${port}/metrics`);

      const scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const sample = (name: string, labels: string[]) => scrape.split('\n').find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
      const tags = [`dataset="${dataset}"`, 'table="items"'];
      expect(sample('cdcflow_rows_processed', tags)).toMatch(/ 3$/);
      expect(sample('cdcflow_operations', [...tags, 'operation="I"'])).toMatch(/ 3$/);
      expect(sample('cdcflow_operations', [...tags, 'operation="D"'])).toMatch(/ 0$/);
      expect(sample('temporal_activity_execution_latency_count', [`task_queue="${taskQueue}"`, 'activity_type="runTableStages"'])).toMatch(/ 1$/);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((resolve) => worker.once('close', resolve));
    }
  });
});

/**
 * `cdcflow run` through a Temporal outage: the server of this test (its own throw-away dev server
 * with a database file, so that runs survive a restart; the shared one must stay up) is stopped
 * while a table is mid-run, stays down longer than the client's own retries last, and comes
 * back; `run` keeps waiting and reports the run's true outcome.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { stringify } from 'yaml';
import { Engine } from '../../src/engine/duckdb';
import { engineSettings } from '../../src/settings';
import { createWorker } from '../../src/worker';
import { tempDir, uniqueDataset, writeCsv } from '../support/harness';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const TEMPORAL = path.join(ROOT, '.cdcflow/bin/temporal');
/** Longer than the SDK's own retries of a lost connection (about 20 s), which the old CLI gave up after. */
const OUTAGE_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function startServer(port: number, dbFile: string): ChildProcess {
  return spawn(TEMPORAL, ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', dbFile, '--log-level', 'error'], {
    stdio: 'ignore',
  });
}

async function untilServing(address: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null) return;
  const closed = new Promise((resolve) => server.on('close', resolve));
  server.kill('SIGTERM');
  await closed;
}

describe('cdcflow run through a Temporal outage', () => {
  let server: ChildProcess | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let engine: Engine | undefined;
  let nativeConnection: NativeConnection | undefined;

  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await nativeConnection?.close();
    await engine?.close();
    if (server) await stopServer(server);
  });

  it('keeps waiting while the server restarts and reports the completed run', async () => {
    // The worker's core retries its polls through the outage, warning each time: expected here.
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
    const dir = tempDir('cdcflow-outage-');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const dbFile = path.join(dir, 'temporal.db');
    server = startServer(port, dbFile);
    await untilServing(address);

    const taskQueue = `outage-${port}`;
    let reached!: () => void;
    const hashReached = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    engine = await Engine.create({ ...engineSettings(), threads: 2 });
    nativeConnection = await NativeConnection.connect({ address });
    worker = await createWorker({
      connection: nativeConnection,
      settings: { namespace: 'default', taskQueue },
      deps: {
        engine,
        heartbeatIntervalMs: 200,
        // The table stays mid-run (in its hash stage) until the server has been away and is back.
        beforeStage: async (stage) => {
          if (stage !== 'hash') return;
          reached();
          await released;
        },
      },
      workflowBundlePath: process.env.CDCFLOW_TEST_WORKFLOW_BUNDLE,
    });
    running = worker.run();

    const dataset = uniqueDataset('outage');
    writeCsv(path.join(dir, 'items.csv'), ['id', 'v'], [[1, 'a'], [2, 'b']]);
    const configPath = path.join(dir, 'dataset.yaml');
    writeFileSync(
      configPath,
      stringify({ dataset, warehouse: 'wh', tables: [{ name: 'items', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: 'items.csv' } }] }),
    );
    const cli = spawn(process.execPath, [CLI, 'run', '--config', configPath, '--date', '2024-01-01'], {
      env: { ...process.env, TEMPORAL_ADDRESS: address, CDCFLOW_TASK_QUEUE: taskQueue, CDCFLOW_SEARCH_ATTRIBUTES: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    cli.stdout!.on('data', (d) => (stdout += d));
    cli.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => cli.on('close', resolve));

    await hashReached;
    await stopServer(server);
    await sleep(OUTAGE_MS);
    server = startServer(port, dbFile);
    await untilServing(address);
    release();

    expect(await exited).toBe(0);
    expect(stderr).toContain(`lost contact with Temporal at ${address}; the run goes on there, still waiting for its outcome...`);
    expect(stdout).toMatch(/items\s+full\s+2\s+0\s+0\s+0\s+0\s+2\s+2\s/);
  }, 180_000);
});

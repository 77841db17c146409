import { Command } from 'commander';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { Engine } from '../engine/duckdb';
import { engineSettings, metricsAddress, temporalSettings } from '../settings';
import { createWorker } from '../worker';

export function workerCommand(): Command {
  return new Command('worker')
    .description('run a worker: executes dataset and table workflows and their DuckDB stages (Ctrl-C stops it)')
    .option('--max-activities <n>', 'stage activities run at once', (v) => Number(v), 4)
    .action(async (opts: { maxActivities: number }) => {
      // DuckDB's async calls use libuv's thread pool; too small a pool can stall connect() (duckdb-node-neo #325).
      process.env.UV_THREADPOOL_SIZE ??= String(Math.max(8, opts.maxActivities * 2));
      const settings = temporalSettings();
      const metrics = metricsAddress();
      // Before any connection: the runtime's telemetry is fixed when it is created.
      if (metrics) Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: metrics } } } });
      const engine = await Engine.create(engineSettings());
      const connection = await NativeConnection.connect({ address: settings.address });
      try {
        const worker = await createWorker({
          connection,
          settings,
          deps: { engine },
          maxConcurrentActivities: opts.maxActivities,
          workflowBundlePath: process.env.CDCFLOW_WORKFLOW_BUNDLE || undefined,
        });
        process.stderr.write(`cdcflow worker: task queue "${settings.taskQueue}" on ${settings.address} (namespace ${settings.namespace})\n`);
        if (metrics) process.stderr.write(`metrics for Prometheus: http://${metrics}/metrics\n`);
        await worker.run();
      } finally {
        await connection.close();
        engine.close();
      }
    });
}

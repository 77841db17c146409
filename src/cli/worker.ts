import { Command } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { connectWorker } from '../client/connect';
import { Engine } from '../engine/duckdb';
import { engineSettings, metricsAddress, temporalSettings } from '../settings';
import { createWorker } from '../worker';
import { WorkerLogger } from '../worker-log';
import { positiveInteger } from './options';

export function workerCommand(): Command {
  return new Command('worker')
    .description('run a worker: executes dataset and table workflows and their DuckDB stages (Ctrl-C stops it)')
    .option('--max-activities <n>', 'stage activities run at once', positiveInteger, 4)
    .action(async (opts: { maxActivities: number }) => {
      // DuckDB's async calls use libuv's thread pool; too small a pool can stall connect() (duckdb-node-neo #325).
      process.env.UV_THREADPOOL_SIZE ??= String(Math.max(8, opts.maxActivities * 2));
      const metrics = metricsAddress();
      // Before any connection: the runtime's logger and telemetry are fixed when it is created.
      Runtime.install({
        logger: new WorkerLogger(new DefaultLogger('INFO')),
        ...(metrics ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metrics } } } } : {}),
      });
      const settings = temporalSettings();
      const connection = await connectWorker(settings);
      const engine = await Engine.create(engineSettings());
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
        await engine.close();
      }
    });
}

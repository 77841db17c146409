// A cdcflow worker that SIGKILLs itself the first time the write stage reaches the named step
// (see `atStep` in src/activities/stage-runner.ts), for crash-point tests. Usage:
//   node test/support/crash-worker.js <step>      (environment as for `cdcflow worker`)
// Plain JavaScript on the built dist/, so that it runs as a process of its own without a
// TypeScript loader.
const { NativeConnection } = require('@temporalio/worker');
const { Engine } = require('../../dist/engine/duckdb');
const { engineSettings, temporalSettings } = require('../../dist/settings');
const { createWorker } = require('../../dist/worker');

async function main() {
  const killAt = process.argv[2];
  const settings = temporalSettings();
  const engine = await Engine.create(engineSettings());
  const connection = await NativeConnection.connect({ address: settings.address });
  const worker = await createWorker({
    connection,
    settings,
    deps: {
      engine,
      atStep: (step) => {
        if (step === killAt) process.kill(process.pid, 'SIGKILL');
      },
    },
    maxConcurrentActivities: 2,
    workflowBundlePath: process.env.CDCFLOW_WORKFLOW_BUNDLE || undefined,
  });
  process.stderr.write(`cdcflow worker: task queue "${settings.taskQueue}" (crashes at ${killAt})\n`);
  await worker.run();
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});

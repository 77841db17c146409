// A cdcflow worker that SIGKILLs itself the first time the write stage reaches the named step
// (see `atStep` in src/activities/stage-runner.ts), for crash-point tests; or, given a pause
// file, that waits there instead: it writes `<file>.reached` and goes on once `<file>.go` exists.
// Usage:
//   node test/support/crash-worker.js <step> [pause file]      (environment as for `cdcflow worker`)
// Plain JavaScript on the built dist/, so that it runs as a process of its own without a
// TypeScript loader.
const { existsSync, writeFileSync } = require('node:fs');
const { Context } = require('@temporalio/activity');
const { NativeConnection } = require('@temporalio/worker');
const { Engine } = require('../../dist/engine/duckdb');
const { engineSettings, temporalSettings } = require('../../dist/settings');
const { createWorker } = require('../../dist/worker');

async function main() {
  const [killAt, pauseFile] = process.argv.slice(2);
  const settings = temporalSettings();
  const engine = await Engine.create(engineSettings());
  const connection = await NativeConnection.connect({ address: settings.address });
  const worker = await createWorker({
    connection,
    settings,
    deps: {
      engine,
      atStep: async (step) => {
        if (step !== killAt) return;
        if (!pauseFile) process.kill(process.pid, 'SIGKILL');
        writeFileSync(`${pauseFile}.reached`, '');
        // Heartbeats meanwhile: the attempt waits, it is not lost.
        while (!existsSync(`${pauseFile}.go`)) {
          Context.current().heartbeat();
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
    },
    maxConcurrentActivities: 2,
    workflowBundlePath: process.env.CDCFLOW_WORKFLOW_BUNDLE || undefined,
  });
  process.stderr.write(`cdcflow worker: task queue "${settings.taskQueue}" (${pauseFile ? 'pauses' : 'crashes'} at ${killAt})\n`);
  await worker.run();
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});

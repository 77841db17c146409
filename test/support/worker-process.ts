/**
 * Worker processes for tests that kill them: the real CLI worker (`node dist/cli/main.js
 * worker`) or the crash worker (test/support/crash-worker.js, which kills itself at a named
 * step of the commit). Both need dist/ (the test script builds it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const CRASH_WORKER = path.join(__dirname, 'crash-worker.js');
/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED */
const PENDING_ACTIVITY_STATE_STARTED = 2;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface WorkerProcess {
  child: ChildProcess;
  /** stdout + stderr, for failure messages. */
  output(): string;
  exited: Promise<void>;
}

const spawned: ChildProcess[] = [];

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

function killAll(): void {
  for (const child of spawned.filter(running)) child.kill('SIGKILL');
}
// A jest worker that dies without running afterAll must not leave workers behind either.
process.once('exit', killAll);

/** Kills every worker process the tests started and waits until they are gone. */
export async function killAllWorkers(): Promise<void> {
  const exits = spawned.filter(running).map((c) => new Promise((resolve) => c.once('exit', resolve)));
  killAll();
  await Promise.all(exits);
}

/**
 * Starts `cdcflow worker` on `taskQueue` (or, with `killAtStep`, the crash worker, which with
 * `pauseFile` waits at the step instead) and resolves once it polls (it says so on stderr).
 */
export async function spawnWorker(
  taskQueue: string,
  duckdbTmp: string,
  opts: { killAtStep?: string; pauseFile?: string; env?: Record<string, string>; maxActivities?: number } = {},
): Promise<WorkerProcess> {
  const args = opts.killAtStep
    ? [CRASH_WORKER, opts.killAtStep, ...(opts.pauseFile ? [opts.pauseFile] : [])]
    : [CLI, 'worker', '--max-activities', String(opts.maxActivities ?? 2)];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
      CDCFLOW_TASK_QUEUE: taskQueue,
      CDCFLOW_WORKFLOW_BUNDLE: process.env.CDCFLOW_TEST_WORKFLOW_BUNDLE ?? '',
      CDCFLOW_DUCKDB_TEMP_DIR: duckdbTmp,
      // The reference harness engine uses 2 threads too.
      CDCFLOW_DUCKDB_THREADS: '2',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.push(child);
  let out = '';
  const append = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: WorkerProcess = { child, output: () => out, exited };

  const deadline = Date.now() + 30_000;
  while (!out.includes('cdcflow worker: task queue')) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`worker exited at startup (${child.exitCode ?? child.signalCode}):\n${out}`);
    }
    if (Date.now() > deadline) throw new Error(`worker did not start within 30s:\n${out}`);
    await sleep(50);
  }
  return proc;
}

export async function sigkill(w: WorkerProcess): Promise<void> {
  w.child.kill('SIGKILL');
  await w.exited;
}

/** Waits until `activityType` of the workflow is running on a worker (attempt 1). */
export async function waitForRunningActivity(client: Client, workflowId: string, activityType: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await client.workflow
      .getHandle(workflowId)
      .describe()
      .catch(() => undefined); // the child may not exist yet
    if (described && described.status.name !== 'RUNNING') {
      throw new Error(`${workflowId} is ${described.status.name} before ${activityType} was seen running`);
    }
    const pending = described?.raw.pendingActivities ?? [];
    if (pending.some((a) => a.activityType?.name === activityType && a.state === PENDING_ACTIVITY_STATE_STARTED)) return;
    if (Date.now() > deadline) throw new Error(`${activityType} of ${workflowId} not running within ${timeoutMs / 1000}s`);
    await sleep(50);
  }
}

/** Every ActivityTaskStarted event of a workflow's history: its activity type, attempt and worker identity. */
export async function activityStarts(client: Client, workflowId: string): Promise<{ type: string; attempt: number; identity: string }[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const typeOf = new Map<string, string>();
  const starts: { type: string; attempt: number; identity: string }[] = [];
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(e.eventId), scheduled.activityType?.name ?? '?');
    const started = e.activityTaskStartedEventAttributes;
    if (started) starts.push({ type: typeOf.get(String(started.scheduledEventId)) ?? '?', attempt: started.attempt ?? 0, identity: started.identity ?? '?' });
  }
  return starts;
}

/** The ActivityTaskStarted events of a workflow's history, by activity type: their attempts. */
export async function activityAttempts(client: Client, workflowId: string): Promise<Record<string, number[]>> {
  const attempts: Record<string, number[]> = {};
  for (const { type, attempt } of await activityStarts(client, workflowId)) (attempts[type] ??= []).push(attempt);
  return attempts;
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what()}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}


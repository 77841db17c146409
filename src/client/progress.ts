/**
 * The CLI's progress line while a run is under way: tables done, the stage each running table
 * is in, and a plain warning when no worker is there to make progress at all.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { TemporalSettings } from '../settings';
import { type DatasetRunResult, datasetProgressQuery, tableProgressQuery, type datasetWorkflow } from '../workflows';
import { type DatasetQueueStatus, type DumpStatus, queueStatusQuery } from '../workflows/backfill';
import { backfillTableWorkflowId, datasetQueueWorkflowId, tableWorkflowId } from '../workflows/ids';

/** A query that gives up after 3 s (no worker answers a query) and leaves no retry behind. */
function quickly<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  return client.connection.withDeadline(Date.now() + 3000, fn);
}

/**
 * A live worker polls again at least every 70 s (the SDK's long-poll timeout); the server keeps
 * listing a dead one for minutes, with its last poll's time.
 */
const POLLED_WITHIN_MS = 90_000;

/** Whether any poller polled lately (pollers' lastAccessTime as describeTaskQueue gives it). */
export function hasLivePoller(pollers: readonly { lastAccessTime?: { seconds?: unknown } | null }[], now = Date.now()): boolean {
  return pollers.some((p) => {
    const seconds = Number(p.lastAccessTime?.seconds ?? NaN);
    return Number.isNaN(seconds) || now - seconds * 1000 < POLLED_WITHIN_MS;
  });
}

/** Whether a worker polls the task queue (of the client's namespace) lately. */
export async function hasWorker(client: Client, taskQueue: string): Promise<boolean> {
  const { pollers } = await client.workflowService.describeTaskQueue({ namespace: client.options.namespace, taskQueue: { name: taskQueue } });
  return hasLivePoller(pollers ?? []);
}

/** A stage being retried (a sink that is down, a file still being written): which attempt, and why. */
export function retryNote(pending: readonly { attempt?: number | null; lastFailure?: { message?: string | null } | null }[]): string {
  const retrying = pending.filter((a) => (a.attempt ?? 1) > 1);
  return retrying.map((a) => ` · retrying (attempt ${a.attempt}): ${(a.lastFailure?.message ?? '').split('\n')[0]}`).join('');
}

type Heartbeating = readonly { heartbeatDetails?: { payloads?: Payload[] | null } | null }[];

/** The first text of `field` in the running activities' last heartbeats. */
function heartbeatText(pending: Heartbeating, field: 'stage' | 'waiting'): string | undefined {
  for (const a of pending) {
    const [payload] = a.heartbeatDetails?.payloads ?? [];
    if (!payload) continue;
    const value = defaultPayloadConverter.fromPayload<Record<string, unknown> | null>(payload)?.[field];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * The stage a running activity last named in its heartbeat: an activity that runs several stages
 * (runTableStages) heartbeats each one's name, which the table run's own progress cannot know.
 */
export function heartbeatStage(pending: Heartbeating): string | undefined {
  return heartbeatText(pending, 'stage');
}

/** The stages of a file table's one activity (runTableStages), in the order it runs them. */
const WHOLE_RUN_STAGES = ['plan', 'hash', 'diff', 'write'];

/**
 * Stages done: as the table run counts them, or, inside the one activity that runs a file
 * table's stages (which the run counts as a whole when it ends), those before the heartbeat's.
 */
export function stagesDone(counted: number, stage: string | undefined): number {
  return Math.max(Math.floor(counted), stage ? WHOLE_RUN_STAGES.indexOf(stage) : 0);
}

/** What a running stage said it waits on (a PostgreSQL lock held by another session). */
export function waitNote(pending: Heartbeating): string {
  const waiting = heartbeatText(pending, 'waiting');
  return waiting ? ` · ${waiting}` : '';
}

/**
 * What a run waiting for its dataset's turn waits for: the run or dump holding it, and how many
 * more are ahead in the queue. Undefined when the run is not (or no longer) waiting.
 */
export function turnWait(queue: Pick<DatasetQueueStatus, 'active' | 'waiting'>, workflowId: string): string | undefined {
  const ahead = queue.waiting.indexOf(workflowId);
  if (ahead < 0 || !queue.active || queue.active === workflowId) return undefined;
  return `waiting for the dataset's turn: ${queue.active} holds it${ahead > 0 ? ` (${ahead} more ahead)` : ''}`;
}

/** A run none of whose tables started yet may be waiting behind another run or dump of its dataset. */
async function datasetTurnWait(client: Client, dataset: string, workflowId: string): Promise<string | undefined> {
  const queue = client.workflow.getHandle(datasetQueueWorkflowId(dataset));
  const status = await quickly(client, () => queue.query(queueStatusQuery)).catch(() => undefined);
  return status && turnWait(status, workflowId);
}

/** The run's last answer and when it came: shown while no worker answers, so the line does not go back to "waiting for the run to start". */
interface LastAnswer {
  body?: string;
  at?: Date;
}

async function progressLine(
  client: Client,
  settings: TemporalSettings,
  handle: WorkflowHandle<typeof datasetWorkflow>,
  startedAt: number,
  last: LastAnswer,
): Promise<string> {
  const elapsed = `${Math.round((Date.now() - startedAt) / 1000)}s`;
  let progress;
  try {
    progress = await quickly(client, () => handle.query(datasetProgressQuery));
  } catch {
    // Undefined: the server itself does not answer (run says "lost contact" then).
    const polled = await hasWorker(client, settings.taskQueue).catch(() => undefined);
    if (polled === false) {
      return `waiting for a worker on task queue "${settings.taskQueue}" (start one with: cdcflow worker) ${elapsed}`;
    }
    if (last.body && last.at) {
      const since = `${last.at.toISOString().slice(11, 19)} UTC`;
      const silent = polled ? `a worker on task queue "${settings.taskQueue}" since ${since} (stopped, overloaded or cut off from the server?)` : `Temporal at ${settings.address} since ${since}`;
      return `${last.body} | no answer from ${silent} | ${elapsed}`;
    }
    return `waiting for the run to start ${elapsed}`;
  }
  last.body = await progressBody(client, handle, progress);
  last.at = new Date();
  return `${last.body} | ${elapsed}`;
}

/** Tables done, the stage of each running table and what it waits on, or what the whole run waits for. */
async function progressBody(client: Client, handle: WorkflowHandle<typeof datasetWorkflow>, progress: DatasetRunResult): Promise<string> {
  const done = progress.tables.filter((t) => t.status === 'completed' || t.status === 'failed').length;
  const heading = `${progress.dataset} ${progress.businessDate}: ${done}/${progress.tables.length} tables done`;
  if (progress.tables.every((t) => t.status === 'pending')) {
    const wait = await datasetTurnWait(client, progress.dataset, handle.workflowId);
    if (wait) return [heading, `${wait} (queue ${datasetQueueWorkflowId(progress.dataset)})`].join(' | ');
  }
  const running = await Promise.all(
    progress.tables
      .filter((t) => t.status === 'running')
      .map(async (t) => {
        const childId = tableWorkflowId(progress.dataset, progress.businessDate, t.table);
        const p = await quickly(client, () => client.workflow.getHandle(childId).query(tableProgressQuery)).catch(() => undefined);
        const pending = await pendingActivities(client, childId);
        const note = waitNote(pending) + retryNote(pending);
        const stage = heartbeatStage(pending);
        return p ? `${t.table}: ${stage ?? p.stage} (${stagesDone(p.stagesDone, stage)}/${p.stagesTotal})${note}` : t.table;
      }),
  );
  return [heading, ...running].join(' | ');
}

/** The activities a workflow runs now, as its description lists them (none when it does not answer in time). */
async function pendingActivities(client: Client, workflowId: string) {
  const described = await quickly(client, () => client.workflow.getHandle(workflowId).describe()).catch(() => undefined);
  return described?.raw.pendingActivities ?? [];
}

/**
 * What a running dump's tables wait on or retry (a lock, a source that does not answer, a stage
 * that fails), from their pending activities: `  orders · retrying (attempt 2): …` for each; ''
 * when none does.
 */
export async function dumpTableNotes(client: Client, dataset: string, dump: Pick<DumpStatus, 'requestId' | 'workflowId'>): Promise<string> {
  const run = client.workflow.getHandle<typeof datasetWorkflow>(dump.workflowId);
  const progress = await quickly(client, () => run.query(datasetProgressQuery)).catch(() => undefined);
  const running = progress?.tables.filter((t) => t.status === 'running') ?? [];
  const notes = await Promise.all(
    running.map(async ({ table }) => {
      const pending = await pendingActivities(client, backfillTableWorkflowId(dataset, dump.requestId, table));
      const note = waitNote(pending) + retryNote(pending);
      return note ? `  ${table}${note}` : '';
    }),
  );
  return notes.join('');
}

/**
 * Without a terminal (a CI log, a pipe) a line is printed when it changes, and an unchanged one
 * again this often, so that a long stage or wait shows in the log as still going, and for how long.
 */
const REPEAT_UNCHANGED_MS = 60_000;

/** Polls and prints progress to stderr until the returned function is called (and awaited). */
export function watchProgress(
  client: Client,
  settings: TemporalSettings,
  handle: WorkflowHandle<typeof datasetWorkflow>,
  options: { quiet: boolean; intervalMs?: number },
): () => Promise<void> {
  if (options.quiet) return async () => undefined;
  const tty = Boolean(process.stderr.isTTY);
  const startedAt = Date.now();
  const lastAnswer: LastAnswer = {};
  let last = '';
  let printedAt = 0;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const tick = async () => {
    const line = await progressLine(client, settings, handle, startedAt, lastAnswer).catch(() => '');
    if (stopped || !line) return;
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else if (line.replace(/ \d+s$/, '') !== last.replace(/ \d+s$/, '') || Date.now() - printedAt >= REPEAT_UNCHANGED_MS) {
      process.stderr.write(`${line}\n`);
      printedAt = Date.now();
    }
    last = line;
  };
  // One poll at a time; the caller awaits the last before closing the connection.
  let polling = false;
  const poll = () => {
    if (polling) return;
    polling = true;
    inFlight = tick().finally(() => {
      polling = false;
    });
  };
  const timer = setInterval(poll, options.intervalMs ?? 1000);
  poll();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await inFlight;
    if (tty && last) process.stderr.write('\r\x1b[2K');
  };
}

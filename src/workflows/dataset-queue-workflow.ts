/**
 * The dataset's long-lived workflow (ID `cdcflow/<dataset>`, started with signal-with-start):
 * a queue through which every run and every dump of the dataset passes, one at a time, so that
 * a dataset's runs and dumps never commit concurrently. A run (CLI, Schedule, retry) asks for
 * its turn and gives it back when done; a dump runs here as a child dataset run in `full` mode.
 * The queue, the known config and the latest dumps are carried over continue-as-new.
 */
import {
  CancellationScope,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DatasetConfig } from '../config/types';
import {
  backfillSignal,
  type BackfillRequest,
  cancelSignal,
  chunkProgressSignal,
  type DatasetQueueStatus,
  type DumpStatus,
  pausedQuery,
  pauseSignal,
  queueStatusQuery,
  resumeSignal,
  turnGrantedSignal,
  turnReleasedSignal,
  type TurnRequest,
  turnRequestSignal,
} from './backfill';
import { awaitUnlessGone } from './await-unless-gone';
import { datasetWorkflow, type DatasetRunResult } from './dataset-workflow';
import { dumpScope, dumpRunInput } from './dump-scope';
import { rootMessage } from './failures';
import { backfillWorkflowId } from './ids';
import { dumpRunAttributes } from './run-attributes';

type Waiting = { kind: 'run'; turn: Omit<TurnRequest, 'config'> } | { kind: 'dump'; requestId: string };

export interface DatasetQueueInput {
  dataset: string;
  config?: DatasetConfig;
  /** Carried over continue-as-new. */
  waiting?: Waiting[];
  paused?: boolean;
  dumps?: DumpStatus[];
  requests?: Record<string, BackfillRequest>;
}

/** Finished dumps kept for `backfill --status` and for recognising a request sent again. */
const KEEP_FINISHED = 50;

const { datasetRunOpen } = proxyActivities<Pick<Activities, 'datasetRunOpen'>>({
  startToCloseTimeout: '1 minute',
  retry: { maximumInterval: '30 seconds' },
});

export async function datasetQueueWorkflow(input: DatasetQueueInput): Promise<void> {
  let config = input.config;
  const waiting: Waiting[] = input.waiting ?? [];
  let paused = input.paused ?? false;
  const dumps: DumpStatus[] = input.dumps ?? [];
  // Full requests of the dumps still waiting (the status keeps only what is shown).
  const requests: Record<string, BackfillRequest> = input.requests ?? {};
  let active: string | null = null;
  // The run holding the turn, with its run ID: a later run of the same workflow ID is another run.
  let activeTurn: string | null = null;
  const released = new Set<string>();
  let activeDump: { requestId: string; scope: CancellationScope } | null = null;
  const turnKey = (t: { workflowId: string; runId: string }) => `${t.workflowId}/${t.runId}`;

  setHandler(turnRequestSignal, (turn) => {
    config = turn.config;
    const key = turnKey(turn);
    const known = waiting.some((w) => w.kind === 'run' && turnKey(w.turn) === key) || activeTurn === key;
    if (!known) waiting.push({ kind: 'run', turn: { workflowId: turn.workflowId, runId: turn.runId } });
  });
  setHandler(turnReleasedSignal, (turn) => void released.add(turnKey(turn)));
  setHandler(backfillSignal, (request) => {
    if (request.config) config = request.config;
    // The same request sent again (a retried CLI, a double click) is the same dump.
    if (dumps.some((d) => d.requestId === request.requestId)) return;
    const scope = dumpScope(request, new Date());
    dumps.push({
      requestId: request.requestId,
      scope: scope.description,
      businessDate: scope.businessDate,
      state: 'queued',
      workflowId: backfillWorkflowId(input.dataset, request.requestId),
      tables: {},
      ...(request.digest ? { digest: request.digest } : {}),
    });
    requests[request.requestId] = { ...request, businessDate: scope.businessDate, config: undefined };
    waiting.push({ kind: 'dump', requestId: request.requestId });
  });
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));
  setHandler(cancelSignal, (which) => {
    for (const dump of dumps) {
      if (which?.requestId && dump.requestId !== which.requestId) continue;
      if (dump.state === 'queued') {
        dump.state = 'cancelled';
        const index = waiting.findIndex((w) => w.kind === 'dump' && w.requestId === dump.requestId);
        if (index >= 0) waiting.splice(index, 1);
      }
    }
    if (activeDump && (!which?.requestId || which.requestId === activeDump.requestId)) activeDump.scope.cancel();
  });
  setHandler(chunkProgressSignal, ({ requestId, table, ...progress }) => {
    const dump = dumps.find((d) => d.requestId === requestId);
    if (dump) dump.tables[table] = progress;
  });
  setHandler(pausedQuery, () => paused);
  setHandler(queueStatusQuery, (): DatasetQueueStatus => ({
    dataset: input.dataset,
    paused,
    active,
    waiting: waiting.map((w) => (w.kind === 'run' ? w.turn.workflowId : w.requestId)),
    dumps,
  }));

  /** The next item to run: runs always; dumps only while not paused (a paused queue keeps runs going). */
  const next = (): number => waiting.findIndex((w) => w.kind === 'run' || !paused);

  for (;;) {
    await condition(() => next() >= 0 || workflowInfo().continueAsNewSuggested);
    const index = next();
    if (index < 0) break;
    const [item] = waiting.splice(index, 1);
    if (item.kind === 'run') {
      await giveTurn(item.turn);
    } else {
      const dump = dumps.find((d) => d.requestId === item.requestId)!;
      await runDump(dump, requests[item.requestId]);
      delete requests[item.requestId];
      const finished = dumps.filter((d) => d.state !== 'queued' && d.state !== 'running');
      if (finished.length > KEEP_FINISHED) dumps.splice(dumps.indexOf(finished[0]), 1);
    }
    if (workflowInfo().continueAsNewSuggested) break;
  }
  await continueAsNew<typeof datasetQueueWorkflow>({ dataset: input.dataset, config, waiting, paused, dumps, requests });

  /** Lets the run go, and waits until it gives the turn back or is found ended without doing so. */
  async function giveTurn(turn: Omit<TurnRequest, 'config'>): Promise<void> {
    const key = turnKey(turn);
    active = turn.workflowId;
    activeTurn = key;
    try {
      await getExternalWorkflowHandle(turn.workflowId, turn.runId).signal(turnGrantedSignal);
    } catch {
      active = activeTurn = null;
      return; // The run ended while it waited.
    }
    // A run that ended without giving the turn back (terminated, say) is noticed.
    await awaitUnlessGone(() => released.has(key), () => datasetRunOpen(turn));
    released.delete(key);
    active = null;
    activeTurn = null;
  }

  async function runDump(dump: DumpStatus, request: BackfillRequest): Promise<void> {
    active = dump.workflowId;
    dump.state = 'running';
    const scope = new CancellationScope();
    activeDump = { requestId: dump.requestId, scope };
    try {
      if (!config) throw new Error('no config is known for this dataset: send one with the request (cdcflow backfill does)');
      const run = dumpRunInput(request, config, dump.businessDate, { queueWorkflowId: workflowInfo().workflowId, requestId: dump.requestId });
      const result: DatasetRunResult = await scope.run(() =>
        executeChild(datasetWorkflow, {
          workflowId: dump.workflowId,
          args: [run],
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          typedSearchAttributes: dumpRunAttributes(input.dataset, dump.businessDate),
        }),
      );
      for (const t of result.tables) {
        const progress = (dump.tables[t.table] ??= { phase: 'done', chunks: 0, rows: 0 });
        progress.phase = t.status === 'completed' ? 'done' : t.status;
      }
      dump.state = 'completed';
    } catch (err) {
      dump.state = isCancellation(err) || scope.consideredCancelled ? 'cancelled' : 'failed';
      if (dump.state === 'failed') dump.error = rootMessage(err);
      for (const progress of Object.values(dump.tables)) if (progress.phase !== 'done') progress.phase = dump.state;
    } finally {
      activeDump = null;
      active = null;
    }
  }
}

/**
 * The CLI's progress line while a run is under way: tables done, the stage each running table
 * is in, and a plain warning when no worker is there to make progress at all.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TemporalSettings } from '../settings';
import { datasetProgressQuery, tableProgressQuery, type datasetWorkflow } from '../workflows';
import { tableWorkflowId } from '../workflows/ids';

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref())]);
}

async function hasWorker(client: Client, settings: TemporalSettings): Promise<boolean> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: settings.namespace,
    taskQueue: { name: settings.taskQueue },
  });
  return (response.pollers?.length ?? 0) > 0;
}

async function progressLine(client: Client, settings: TemporalSettings, handle: WorkflowHandle<typeof datasetWorkflow>, startedAt: number): Promise<string> {
  const elapsed = `${Math.round((Date.now() - startedAt) / 1000)}s`;
  let progress;
  try {
    progress = await withTimeout(handle.query(datasetProgressQuery), 3000);
  } catch {
    if (!(await hasWorker(client, settings).catch(() => true))) {
      return `waiting for a worker on task queue "${settings.taskQueue}" (start one with: cdcflow worker) ${elapsed}`;
    }
    return `waiting for the run to start ${elapsed}`;
  }
  const done = progress.tables.filter((t) => t.status === 'completed' || t.status === 'failed').length;
  const running = await Promise.all(
    progress.tables
      .filter((t) => t.status === 'running')
      .map(async (t) => {
        const child = client.workflow.getHandle(tableWorkflowId(progress.dataset, progress.businessDate, t.table));
        const p = await withTimeout(child.query(tableProgressQuery), 3000).catch(() => undefined);
        return p ? `${t.table}: ${p.stage} (${p.stagesDone}/${p.stagesTotal})` : t.table;
      }),
  );
  return [`${progress.dataset} ${progress.businessDate}: ${done}/${progress.tables.length} tables done`, ...running, elapsed].join(' | ');
}

/** Polls and prints progress to stderr until the returned function is called. */
export function watchProgress(
  client: Client,
  settings: TemporalSettings,
  handle: WorkflowHandle<typeof datasetWorkflow>,
  options: { quiet: boolean; intervalMs?: number },
): () => void {
  if (options.quiet) return () => undefined;
  const tty = Boolean(process.stderr.isTTY);
  const startedAt = Date.now();
  let last = '';
  let stopped = false;
  const tick = async () => {
    const line = await progressLine(client, settings, handle, startedAt).catch(() => '');
    if (stopped || !line) return;
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else if (line.replace(/ \d+s$/, '') !== last.replace(/ \d+s$/, '')) process.stderr.write(`${line}\n`);
    last = line;
  };
  const timer = setInterval(() => void tick(), options.intervalMs ?? 1000);
  void tick();
  return () => {
    stopped = true;
    clearInterval(timer);
    if (tty && last) process.stderr.write('\r\x1b[2K');
  };
}

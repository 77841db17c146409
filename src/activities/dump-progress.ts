/**
 * A dump's extract talks to the dataset's queue workflow: it reports each durable chunk (the
 * status query shows them) and, between chunks, holds while the queue is paused.
 */
import { Context } from '@temporalio/activity';
import { type ChunkProgress, chunkProgressSignal, type DumpLink, pausedQuery } from '../workflows/backfill';

const PAUSE_POLL_MS = 1000;

export function dumpProgress(link: DumpLink, table: string) {
  const ctx = Context.current();
  const queue = ctx.client.workflow.getHandle(link.queueWorkflowId);
  return {
    report: (progress: Omit<ChunkProgress, 'requestId' | 'table'>) => queue.signal(chunkProgressSignal, { requestId: link.requestId, table, ...progress }),
    /** Returns once the queue is not paused; a cancelled activity stops waiting (ctx.sleep throws). */
    async holdWhilePaused(): Promise<void> {
      while (await queue.query(pausedQuery)) await ctx.sleep(PAUSE_POLL_MS);
    },
  };
}

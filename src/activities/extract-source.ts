/**
 * Before the hash stage, for sources that are not files (the registry decides which): copy the
 * batch out to Parquet chunk files. Each finished chunk is checkpointed in the heartbeat details
 * and in a manifest beside the chunks, so a retried attempt of the same run resumes at the next
 * chunk. A dump's extract also reports each chunk to the dataset's queue and holds while the
 * queue is paused. Returns references and counts only.
 */
import { Context } from '@temporalio/activity';
import { ConfigError } from '../errors';
import { sourceOf } from '../sources/registry';
import { readRequestedKeys } from '../warehouse/requested-keys';
import { dumpProgress } from './dump-progress';
import { checkRequestedKeys, completeKeyScope } from './key-scope';
import { type ActivityDeps, runStage } from './stage-runner';
import type { ExtractInput, ExtractResult } from './types';

export function extractSource(deps: ActivityDeps) {
  return ({ table, businessDate, since, dump }: ExtractInput): Promise<ExtractResult> =>
    runStage(deps, 'extract', async (session, checkpoint) => {
      const source = sourceOf(table);
      if (!source.extract) {
        throw new ConfigError(`a ${table.source.format} source is read in place and has no extract stage`, { dataset: table.dataset, table: table.name });
      }
      const { workflowExecution: run, activityId } = Context.current().info;
      const runId = run ? `${run.workflowId}/${run.runId}` : activityId;
      const progress = dump ? dumpProgress(dump, table.name) : undefined;
      const scope = dump?.keys?.table === table.name ? dump.keys : undefined;
      const keys = scope?.file ? await readRequestedKeys(table, scope.file) : scope?.values;
      if (keys) await checkRequestedKeys(session, table, keys);
      await progress?.holdWhilePaused();
      const result = await source.extract(session, table, { businessDate, since, runId, ...(keys ? { keys } : {}) }, async (done) => {
        checkpoint({ checkpoint: done });
        await progress?.report({ phase: 'extract', chunks: done.chunk, rows: done.rowsRead });
        await progress?.holdWhilePaused();
      });
      const missing = keys ? await completeKeyScope(deps.engine, session, table, businessDate, result, keys) : {};
      await progress?.report({ phase: 'diff', chunks: result.chunks, rows: result.rows, ...missing });
      return { ...result, ...missing };
    });
}

/**
 * Before the hash stage, for sources that are not files (the registry decides which): copy the
 * batch out to Parquet chunk files. Each finished chunk is checkpointed in the heartbeat details
 * and in a manifest beside the chunks, so a retried attempt of the same run resumes at the next
 * chunk. Returns references and counts only.
 */
import { Context } from '@temporalio/activity';
import { ConfigError } from '../errors';
import { sourceOf } from '../sources/registry';
import { type ActivityDeps, runStage } from './stage-runner';
import type { ExtractInput, ExtractResult } from './types';

export function extractSource(deps: ActivityDeps) {
  return ({ table, businessDate, since }: ExtractInput): Promise<ExtractResult> =>
    runStage(deps, 'extract', (session, checkpoint) => {
      const source = sourceOf(table);
      if (!source.extract) {
        throw new ConfigError(`a ${table.source.format} source is read in place and has no extract stage`, { dataset: table.dataset, table: table.name });
      }
      const { workflowExecution: run, activityId } = Context.current().info;
      const runId = run ? `${run.workflowId}/${run.runId}` : activityId;
      return source.extract(session, table, { businessDate, since, runId }, (done) => checkpoint({ checkpoint: done }));
    });
}

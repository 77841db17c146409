/**
 * After the commit: one sink of the table brought up to the run's business date (see
 * sinks/apply-sink.ts). A sink that cannot be reached fails the attempt with its name in the
 * message, and Temporal retries it with backoff while the table run waits.
 */
import { ConfigError } from '../errors';
import { applySinkChanges } from '../sinks/apply-sink';
import type { SinkReport } from '../sinks/sink';
import { type ActivityDeps, runStage } from './stage-runner';
import type { SinkInput } from './types';

export function applySink(deps: ActivityDeps) {
  return ({ table, businessDate, sink: name }: SinkInput): Promise<SinkReport> =>
    runStage(deps, 'sink', async (session) => {
      const sink = (table.sinks ?? []).find((s) => s.name === name);
      if (!sink) throw new ConfigError(`the table has no sink "${name}"`, { dataset: table.dataset, table: table.name });
      try {
        return await applySinkChanges(deps.engine, session, table, sink, businessDate);
      } catch (err) {
        if (!(err instanceof Error) || err.name !== 'Error') throw err;
        throw new Error(`sink ${sink.name} (${sink.type}): ${err.message}`, { cause: err });
      }
    });
}

/**
 * What every stage activity shares: a DuckDB session for the execution, heartbeats carrying
 * progress, cancellation wired to interrupting the query, and the one place where cdcflow's
 * permanent errors become non-retryable ApplicationFailures.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Engine, Session } from '../engine/duckdb';
import { CdcflowError, describeContext, NON_RETRYABLE_ERROR_TYPES } from '../errors';

export type StageName = 'plan' | 'extract' | 'hash' | 'inserts' | 'deletes' | 'updates' | 'write';

export interface ActivityDeps {
  engine: Engine;
  /** Called before each stage attempt; tests use it to inject failures. */
  beforeStage?: (stage: StageName, attempt: number) => void | Promise<void>;
  /** How often a running stage heartbeats. */
  heartbeatIntervalMs?: number;
}

export function toTemporalFailure(err: unknown): unknown {
  if (err instanceof CdcflowError && (NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(err.name)) {
    const where = describeContext(err.context);
    return ApplicationFailure.create({
      message: where ? `${err.message} (${where})` : err.message,
      type: err.name,
      nonRetryable: true,
      details: [err.context],
    });
  }
  return err;
}

/** Sets what every later heartbeat of the stage carries besides its progress (a checkpoint). */
export type Checkpoint = (details: object) => void;

export async function runStage<T>(deps: ActivityDeps, stage: StageName, work: (session: Session, checkpoint: Checkpoint) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  try {
    await deps.beforeStage?.(stage, ctx.info.attempt);
    return await deps.engine.withSession(async (session) => {
      let details: object = {};
      const beat = () => ctx.heartbeat({ stage, percent: Math.max(0, session.progress()), ...details });
      const checkpoint: Checkpoint = (d) => {
        details = d;
        beat();
      };
      beat();
      const timer = setInterval(beat, deps.heartbeatIntervalMs ?? 1000);
      const interrupt = () => session.interrupt();
      ctx.cancellationSignal.addEventListener('abort', interrupt);
      try {
        return await work(session, checkpoint);
      } finally {
        clearInterval(timer);
        ctx.cancellationSignal.removeEventListener('abort', interrupt);
      }
    });
  } catch (err) {
    throw toTemporalFailure(err);
  }
}

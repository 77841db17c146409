/**
 * What every stage activity shares: a DuckDB session for the execution, heartbeats carrying
 * progress, cancellation wired to interrupting the query, and the one place where cdcflow's
 * permanent errors become non-retryable ApplicationFailures.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Engine, Session } from '../engine/duckdb';
import type { StepHook } from '../warehouse/publish';
import { CdcflowError, describeContext, NON_RETRYABLE_ERROR_TYPES } from '../errors';

export type StageName = 'plan' | 'hash' | 'inserts' | 'deletes' | 'updates' | 'write';

export interface ActivityDeps {
  engine: Engine;
  /** Called before each stage attempt; tests use it to inject failures. */
  beforeStage?: (stage: StageName, attempt: number) => void | Promise<void>;
  /** Called at named points of the commit and publish; tests use it to crash there. */
  atStep?: StepHook;
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

export async function runStage<T>(deps: ActivityDeps, stage: StageName, work: (session: Session) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  try {
    await deps.beforeStage?.(stage, ctx.info.attempt);
    return await deps.engine.withSession(async (session) => {
      const beat = () => ctx.heartbeat({ stage, percent: Math.max(0, session.progress()) });
      beat();
      const timer = setInterval(beat, deps.heartbeatIntervalMs ?? 1000);
      const interrupt = () => session.interrupt();
      ctx.cancellationSignal.addEventListener('abort', interrupt);
      try {
        return await work(session);
      } finally {
        clearInterval(timer);
        ctx.cancellationSignal.removeEventListener('abort', interrupt);
      }
    });
  } catch (err) {
    throw toTemporalFailure(err);
  }
}

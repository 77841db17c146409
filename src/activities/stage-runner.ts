/**
 * What every stage activity shares: a DuckDB session for the execution, heartbeats carrying
 * progress, cancellation wired to interrupting the query, and the one place where cdcflow's
 * permanent errors become non-retryable ApplicationFailures.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Engine, Session } from '../engine/duckdb';
import { classifyOutOfMemory } from '../engine/out-of-memory';
import { classifyS3Error } from '../engine/s3';
import { type Wait, withWaitNotes } from '../engine/wait-notes';
import type { StepHook } from '../warehouse/publish';
import { CdcflowError, ConfigError, describeContext, NON_RETRYABLE_ERROR_TYPES } from '../errors';

export type StageName = 'plan' | 'extract' | 'hash' | 'diff' | 'write' | 'sink' | 'retention';

export interface ActivityDeps {
  engine: Engine;
  /** Called before each stage attempt; tests use it to inject failures. */
  beforeStage?: (stage: StageName, attempt: number) => void | Promise<void>;
  /** Called at named points of the commit and publish; tests use it to crash there. */
  atStep?: StepHook;
  /** How often a running stage heartbeats. */
  heartbeatIntervalMs?: number;
}

/** The file standing where a folder of `target` should be. */
function fileOnPath(target: string): string {
  const isFile = (p: string) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  for (let p = target; p !== path.dirname(p); p = path.dirname(p)) {
    if (isFile(p)) return p;
  }
  return target;
}

/** A file where the warehouse needs a folder: no retry turns it into one. */
function classifyFileSystemError(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e?.code !== 'ENOTDIR' || !e.path) return err;
  const file = fileOnPath(e.path);
  return new ConfigError(`${file} is a file where the warehouse needs a folder`, { file }, { cause: err });
}

export function toTemporalFailure(thrown: unknown, stage: StageName): unknown {
  const err = classifyOutOfMemory(classifyS3Error(classifyFileSystemError(thrown)), stage);
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
      // What the stage waits on, if anything (a PostgreSQL lock): run's progress line shows it.
      let waiting: Wait | undefined;
      const send = () => ctx.heartbeat({ stage, percent: Math.max(0, session.progress()), ...details, ...(waiting ? { waiting: waiting.note } : {}) });
      // A stalled stage's last heartbeat says why; then none, so Temporal retries it after its heartbeat timeout.
      const beat = () => (waiting?.stalled ? undefined : send());
      const checkpoint: Checkpoint = (d) => {
        details = d;
        beat();
      };
      beat();
      const timer = setInterval(beat, deps.heartbeatIntervalMs ?? 1000);
      const interrupt = () => session.interrupt();
      ctx.cancellationSignal.addEventListener('abort', interrupt);
      try {
        const noted = (wait: Wait | undefined) => {
          if (waiting?.stalled || (wait?.note === waiting?.note && wait?.stalled === waiting?.stalled)) return;
          waiting = wait;
          if (!wait?.stalled) return beat();
          send();
          // Ends the blocked statement should it ever return: a retry has taken over by then.
          session.interrupt();
        };
        return await withWaitNotes(noted, () => work(session, checkpoint));
      } finally {
        clearInterval(timer);
        ctx.cancellationSignal.removeEventListener('abort', interrupt);
      }
    });
  } catch (err) {
    throw toTemporalFailure(err, stage);
  }
}

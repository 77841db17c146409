/**
 * A file-source table run's stages in one activity: plan and hash, then, for a batch small
 * enough (see workflows/whole-run.ts), diff, the delete guard and the write. Each inner stage
 * is the stage activity's own function, so it commits its output (stage file and manifest) as
 * when it runs alone: a retry of this activity plans again and skips every stage whose committed
 * output matches. What it saves is Temporal's round trips between stages, which cost a small
 * table more than its stages' work.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { type DeleteGuardVerdict, guardDiff } from '../workflows/delete-guard';
import { type InnerStageDetail, MAX_REBASES, runsWhole } from '../workflows/whole-run';
import { diffBatch } from './diff-batch';
import { hashBatch } from './hash-batch';
import { planTableRun } from './plan-table-run';
import type { ActivityDeps, StageName } from './stage-runner';
import type { DiffInput, HashResult, PlanResult, StageInput, WriteResult } from './types';
import { writeOutputs } from './write-outputs';

export interface TableStagesInput extends StageInput {
  /** The run or the config lets through what the delete guard refuses. */
  allowDeletes: boolean;
}

export interface TableStagesResult {
  /** The plan the last diff was made on. */
  plan: PlanResult;
  hashed: HashResult;
  /** Absent for a batch too big for one activity: the workflow runs its diff and write as activities. */
  guard?: DeleteGuardVerdict;
  /** Absent when the batch is too big, or the delete guard refused it. */
  written?: WriteResult;
  rebases: number;
  /** Stages whose committed output was reused, in the order they ran. */
  skippedStages: string[];
  /** Seconds each inner stage took (a stage run again after a stale base counts both times): where the activity's time went. */
  stageSeconds: Partial<Record<InnerStage, number>>;
}

type InnerStage = 'plan' | 'hash' | 'diff' | 'write';

function isStaleBase(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === 'StaleBaseError';
}

/**
 * The failure as the stage threw it (type, message, retryability), naming the stage in its
 * details: the table run restates it as "<stage> failed: ..." like a stage activity's own.
 */
function failedIn(stage: StageName, err: unknown): unknown {
  if (err instanceof CancelledFailure || Context.current().cancellationSignal.aborted) return err;
  const failure = err instanceof ApplicationFailure ? err : undefined;
  const error = err instanceof Error ? err : new Error(String(err));
  return ApplicationFailure.create({
    type: failure?.type ?? error.name,
    message: error.message,
    nonRetryable: failure?.nonRetryable ?? false,
    details: [{ innerStage: stage } satisfies InnerStageDetail],
    cause: error,
  });
}

export function runTableStages(deps: ActivityDeps) {
  const stages = { plan: planTableRun(deps), hash: hashBatch(deps), diff: diffBatch(deps), write: writeOutputs(deps) };
  return async ({ allowDeletes, ...input }: TableStagesInput): Promise<TableStagesResult> => {
    const { table } = input;
    const skippedStages: string[] = [];
    const stageSeconds: TableStagesResult['stageSeconds'] = {};
    const done = (result: Omit<TableStagesResult, 'skippedStages' | 'stageSeconds'>): TableStagesResult => ({ ...result, skippedStages, stageSeconds });
    let current: StageName = 'plan';
    async function inner<R extends object>(stage: InnerStage, run: () => Promise<R>): Promise<R> {
      current = stage;
      const started = performance.now();
      const result = await run();
      stageSeconds[stage] = (stageSeconds[stage] ?? 0) + (performance.now() - started) / 1000;
      if ('skipped' in result && result.skipped && !skippedStages.includes(stage)) skippedStages.push(stage);
      return result;
    }
    try {
      let plan = await inner('plan', () => stages.plan(input));
      const hashed = await inner('hash', () => stages.hash(input));
      if (!runsWhole(table, hashed.rows)) return done({ plan, hashed, rebases: 0 });
      for (let rebases = 0; ; rebases++) {
        const diffInput: DiffInput = {
          ...input,
          base: plan.base,
          head: plan.head,
          headDate: plan.latestCommitted,
          hashFingerprint: hashed.fingerprint,
          watermark: null,
          ...(plan.addedColumns ? { addedColumns: plan.addedColumns } : {}),
        };
        const { counts } = await inner('diff', () => stages.diff(diffInput));
        const guard = guardDiff(table, hashed.rows, counts, allowDeletes);
        if (guard.verdict === 'refuse') return done({ plan, hashed, guard, rebases });
        try {
          const written = await inner('write', () => stages.write(diffInput));
          return done({ plan, hashed, guard, written, rebases });
        } catch (err) {
          if (!isStaleBase(err) || rebases >= MAX_REBASES) throw err;
          // Another run of the table committed first: diff again on its state (or be refused as older).
          plan = await inner('plan', () => stages.plan(input));
        }
      }
    } catch (err) {
      throw failedIn(current, err);
    }
  };
}

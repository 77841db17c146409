/** Failures as a person reads them: the innermost message, which names file, row and column. */
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import type { InnerStageDetail } from './whole-run';

interface Chain {
  message?: string;
  type?: string | null;
  cause?: unknown;
}

function innermost(err: unknown): Chain {
  let e = err as Chain;
  while (e?.cause) e = e.cause as Chain;
  return e;
}

/** The innermost message of a failure chain: the activity's own words. */
export function rootMessage(err: unknown): string {
  return innermost(err)?.message ?? String(err);
}

/**
 * A stage's failure restated as "<stage> failed: <the activity's words>", keeping the chain as
 * its cause, so the table run's failure in the UI reads plainly instead of "Activity task failed".
 * A cancellation stays what it is, so a cancelled run ends cancelled.
 */
export function plainStageFailure(stage: string, err: unknown): unknown {
  if (isCancellation(err)) return err;
  return ApplicationFailure.create({
    type: innermost(err)?.type ?? 'StageFailed',
    message: `${stage} failed: ${rootMessage(err)}`,
    nonRetryable: true,
    cause: err instanceof Error ? err : undefined,
  });
}

/** The stage that failed inside an activity running several (runTableStages), if it was one. */
export function innerStage(err: unknown): string | undefined {
  const detail = ((err as Chain)?.cause as { details?: unknown[] } | undefined)?.details?.[0] as Partial<InnerStageDetail> | undefined;
  return typeof detail?.innerStage === 'string' ? detail.innerStage : undefined;
}

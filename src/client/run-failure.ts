/** A failed run's message and, when tables failed, the per-table outcomes the workflow attached. */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DatasetRunResult } from '../workflows';

export function runFailure(err: unknown): { error: string; run?: DatasetRunResult } {
  const cause = err instanceof WorkflowFailedError ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { error: cause.message, run: cause.details?.[0] as DatasetRunResult | undefined };
  }
  return { error: cause instanceof Error ? cause.message : String(cause) };
}

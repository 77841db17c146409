/**
 * Waiting for a run's result through server outages: the run goes on on the server (or resumes
 * when it is back), so a lost connection is a reason to wait longer, not to report a failure.
 */
import { isGrpcServiceError, type WorkflowHandle } from '@temporalio/client';

/** gRPC status codes of a server that did not answer: UNAVAILABLE, DEADLINE_EXCEEDED. */
const UNREACHABLE_CODES = [14, 4];

/** Whether the error, or its cause (the SDK wraps them), is a gRPC error with one of these status codes. */
export function hasGrpcCode(err: unknown, codes: readonly number[]): boolean {
  const cause = (err as { cause?: unknown })?.cause;
  return [err, cause].some((e) => isGrpcServiceError(e) && codes.includes(e.code));
}

/** The server did not answer: down, restarting, or out of reach. */
export function isServerUnreachable(err: unknown): boolean {
  return hasGrpcCode(err, UNREACHABLE_CODES);
}

export async function awaitResult<T>(
  handle: Pick<WorkflowHandle, 'result'>,
  options: { onOutage?: (err: unknown) => void; retryDelayMs?: number } = {},
): Promise<T> {
  let outage = false;
  for (;;) {
    try {
      return (await handle.result()) as T;
    } catch (err) {
      if (!isServerUnreachable(err)) throw err;
      if (!outage) options.onOutage?.(err);
      outage = true;
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 2000));
    }
  }
}

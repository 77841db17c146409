/**
 * The last stage of a table run: each sink of the table applied by its own activity, all at
 * once, so a sink that is down (its activity retrying with backoff) neither blocks nor undoes
 * the others. The commit stands whatever the sinks do; a sink that still fails after its retries
 * fails the table run once the others are done, and the next run catches it up.
 */
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SinkReport, StageInput } from '../activities/types';
import type { SinkSpec } from '../config/types';
import { rootMessage } from './failures';

export async function applySinks(a: Activities, input: StageInput, sinks: readonly SinkSpec[]): Promise<{ reports: SinkReport[] }> {
  const settled = await Promise.allSettled(sinks.map((s) => a.applySink({ ...input, sink: s.name })));
  const rejected = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const cancelled = rejected.find(isCancellation);
  if (cancelled) throw cancelled;
  if (rejected.length > 0) {
    throw ApplicationFailure.create({
      type: 'SinkFailed',
      message: `${rejected.length} of ${sinks.length} sink(s) not applied (the commit stands; the next run catches them up): ${rejected.map(rootMessage).join('; ')}`,
      nonRetryable: true,
    });
  }
  return { reports: settled.map((r) => (r as PromiseFulfilledResult<SinkReport>).value) };
}

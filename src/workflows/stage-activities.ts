/**
 * The stage activities as a table run calls them: one retry policy, and each call carrying a
 * readable summary (stage, table, business date) that the UI shows in the run's timeline.
 */
import { type ActivityOptions, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type Bucket, bucketLabel } from '../engine/key-buckets';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';

const STAGE_OF: Record<keyof Activities, string> = {
  // A big batch's run stops after the hash; its diff and write then show as their own activities.
  runTableStages: 'plan → hash → diff → write',
  countSourceFiles: 'wait for files',
  planTableRun: 'plan',
  extractSource: 'extract',
  hashBatch: 'hash',
  diffBatch: 'diff',
  writeOutputs: 'write',
  applySink: 'sink',
  expireSnapshots: 'retention',
  requestDatasetTurn: 'queue',
  datasetRunOpen: 'queue',
  runningDatasetQueue: 'queue',
};

/** `scope`: the table the calls are for (the dataset, for its run's own activities), shown in each call's summary. */
export function stageActivities(heartbeatTimeoutSeconds: number, scope: string, businessDate: string): Activities {
  const options: ActivityOptions = {
    // Big batches take long; a dead worker is noticed through missed heartbeats instead.
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: `${heartbeatTimeoutSeconds} seconds`,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: 10,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  };
  const proxies = proxyActivities<Activities>(options);
  return new Proxy(proxies, {
    get(target, name: keyof Activities) {
      return (...args: unknown[]) => {
        const { sink, bucket } = (args[0] ?? {}) as { sink?: string; bucket?: Bucket };
        const detail = sink ?? (bucket ? `bucket ${bucketLabel(bucket)}` : undefined);
        const summary = `${STAGE_OF[name] ?? name}${detail ? ` ${detail}` : ''} · ${scope} · ${businessDate}`;
        return target[name].executeWithOptions({ ...options, summary }, args as never);
      };
    },
  });
}

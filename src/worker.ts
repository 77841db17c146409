/** Builds a cdcflow worker: the workflows plus the stage activities bound to one DuckDB engine. */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { stageMetricsInterceptor } from './activities/stage-metrics';
import type { TemporalSettings } from './settings';

export interface WorkerOptions {
  connection: NativeConnection;
  settings: Pick<TemporalSettings, 'namespace' | 'taskQueue'>;
  deps: ActivityDeps;
  /** How many stage activities run at once (each holds one DuckDB connection). */
  maxConcurrentActivities?: number;
  /** A prebuilt workflow bundle (production, tests); otherwise the workflows are bundled at start. */
  workflowBundlePath?: string;
}

export function createWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.settings.namespace,
    taskQueue: options.settings.taskQueue,
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : { workflowsPath: require.resolve('./workflows') }),
    activities: createActivities(options.deps),
    interceptors: { activity: [stageMetricsInterceptor] },
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 4,
    // Heartbeats carry what run's progress line shows (the stage, within one activity the stage
    // inside, a lock waited on): the SDK sends a stage's news after at most this long, rather than
    // at 80% of the heartbeat timeout (48 s by default).
    maxHeartbeatThrottleInterval: '2 seconds',
  });
}

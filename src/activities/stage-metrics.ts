/**
 * cdcflow's own worker metrics, through the activity context's metric meter (exported with the
 * SDK's runtime metrics when the worker has a Prometheus endpoint, a no-op otherwise):
 * rows read per table and operations (I/U/D/X/N) per table. A stage whose committed output was
 * reused (`skipped`) counts nothing, so a retry is not counted twice.
 */
import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { TableConfig } from '../config/types';
import type { TableStagesResult } from './run-table-stages';
import type { HashResult, WriteResult } from './types';

export const ROWS_METRIC = 'cdcflow_rows_processed';
export const OPERATIONS_METRIC = 'cdcflow_operations';

function recordStage(ctx: Context, args: unknown[], result: unknown): void {
  const table = (args[0] as { table?: TableConfig } | undefined)?.table;
  if (!table || !result) return;
  const meter = ctx.metricMeter.withTags({ dataset: table.dataset, table: table.name });
  const activity = ctx.info.activityType;
  // A table's stages run in one activity, or each in its own.
  const { hashed, written } =
    activity === 'runTableStages'
      ? (result as TableStagesResult)
      : { hashed: activity === 'hashBatch' ? (result as HashResult) : undefined, written: activity === 'writeOutputs' ? (result as WriteResult) : undefined };
  if (hashed && !hashed.skipped) meter.createCounter(ROWS_METRIC, 'rows', 'Rows of source batches read and hashed').add(hashed.rows);
  if (written && !written.skipped) {
    const operations = meter.createCounter(OPERATIONS_METRIC, 'rows', 'Rows committed per operation: I, U, D, X, N');
    for (const [operation, n] of Object.entries(written.counts)) operations.add(n, { operation });
  }
}

export const stageMetricsInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const result = await next(input);
      recordStage(ctx, input.args, result);
      return result;
    },
  },
});

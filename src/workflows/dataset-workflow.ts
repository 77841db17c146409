/**
 * A dataset's run for a business date: one child workflow per table, a bounded number at a
 * time, then one retention pass over the warehouse. A failed table does not stop the others;
 * the run fails at the end, naming them.
 */
import { ApplicationFailure, defineQuery, executeChild, patched, setHandler, upsertMemo } from '@temporalio/workflow';
import { isIsoDate } from '../config/iso-date';
import type { DatasetConfig, Mode } from '../config/types';
import type { DumpLink } from './backfill';
import { withDatasetTurn } from './dataset-turn';
import { type ScheduledDateRule, scheduledBusinessDate } from './business-date';
import { rootMessage } from './failures';
import { backfillTableWorkflowId, tableWorkflowId } from './ids';
import { tableMode } from './mode-override';
import { stageActivities } from './stage-activities';
import { recordBusinessDate, recordCounts, sumCounts, tableRunAttributes } from './run-attributes';
import { type TableRunResult, tableWorkflow } from './table-workflow';

export interface DatasetWorkflowInput {
  config: DatasetConfig;
  /** Absent in runs a Schedule starts: derived from the scheduled time with `schedule`'s rule. */
  businessDate?: string;
  schedule?: ScheduledDateRule;
  /** Run only these tables (all when absent). */
  tables?: string[];
  /** Let through what the delete guard refuses (`run --allow-deletes`); recorded in the memo. */
  allowDeletes?: boolean;
  /**
   * The same for these tables only (a retry keeps each failed run's approval): in the input, not
   * in the config, which the dataset's queue keeps for dumps sent without one.
   */
  allowDeletesTables?: string[];
  /** Overrides every table's mode (a schedule's, e.g. full weekly on delta tables). */
  mode?: Mode;
  /** Started by the dataset's queue workflow (a dump), which gave it the turn already. */
  holdsTurn?: boolean;
  /** A dump: its request, for progress and pause, and the keys of a keys-only dump. */
  dump?: DumpLink;
}

export type TableOutcome =
  | { table: string; status: 'pending' | 'running' }
  | { table: string; status: 'completed'; result: TableRunResult }
  | { table: string; status: 'failed'; error: string };

export interface DatasetRunResult {
  dataset: string;
  businessDate: string;
  tables: TableOutcome[];
  /** Why the retention pass after the tables failed (their commits stand; the next run tries again). */
  retentionError?: string;
}

export const datasetProgressQuery = defineQuery<DatasetRunResult>('datasetProgressQuery');

export async function datasetWorkflow({ config, tables, mode, allowDeletes, allowDeletesTables, holdsTurn, dump, ...input }: DatasetWorkflowInput): Promise<DatasetRunResult> {
  const businessDate = input.businessDate ?? scheduledBusinessDate(input.schedule);
  // Started without the CLI (the UI, `temporal workflow start`): the stages would retry the date's paths for minutes.
  if (!isIsoDate(businessDate)) {
    throw ApplicationFailure.nonRetryable(`dataset ${config.dataset}: business date ${JSON.stringify(businessDate)} is not a date (YYYY-MM-DD)`, 'ConfigError');
  }
  if (!input.businessDate) recordBusinessDate(businessDate);
  const unknown = (tables ?? []).filter((name) => !config.tables.some((t) => t.name === name));
  if (unknown.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `dataset ${config.dataset} has no table(s) ${unknown.join(', ')} (tables: ${config.tables.map((t) => t.name).join(', ')})`,
      'ConfigError',
    );
  }
  const selected = config.tables.filter((t) => !tables?.length || tables.includes(t.name)).map((t) => ({ ...t, mode: tableMode(t, mode) }));
  const outcomes: TableOutcome[] = selected.map((t) => ({ table: t.name, status: 'pending' }));
  const progress = (): DatasetRunResult => ({ dataset: config.dataset, businessDate, tables: outcomes });
  setHandler(datasetProgressQuery, progress);

  const tableRunId = (table: string) => (dump ? backfillTableWorkflowId(config.dataset, dump.requestId, table) : tableWorkflowId(config.dataset, businessDate, table));
  const queue = selected.map((table, index) => ({ table, index }));
  async function lane(): Promise<void> {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { table, index } = next;
      outcomes[index] = { table: table.name, status: 'running' };
      const allowed = allowDeletes || allowDeletesTables?.includes(table.name);
      try {
        const result = await executeChild(tableWorkflow, {
          workflowId: tableRunId(table.name),
          args: [{ table, businessDate, heartbeatTimeoutSeconds: config.heartbeatTimeoutSeconds, ...(allowed ? { allowDeletes: true } : {}), ...(dump ? { dump } : {}) }],
          typedSearchAttributes: tableRunAttributes(config.dataset, businessDate, table.name, table.mode),
        });
        outcomes[index] = { table: table.name, status: 'completed', result };
      } catch (err) {
        outcomes[index] = { table: table.name, status: 'failed', error: rootMessage(err) };
      }
    }
  }
  let retentionError: string | undefined;
  await withDatasetTurn(config, Boolean(holdsTurn), async () => {
    await Promise.all(Array.from({ length: Math.min(config.maxConcurrentTables, selected.length) }, lane));
    // Runs recorded before retention moved here replay without it (their table runs expired).
    const warehouses = [...new Set(selected.filter((_, i) => outcomes[i].status === 'completed').map((t) => t.warehouse))];
    if (warehouses.length === 0 || !patched('retention-per-dataset-run')) return;
    const { expireSnapshots } = stageActivities(config.heartbeatTimeoutSeconds, config.dataset, businessDate);
    retentionError = await expireSnapshots({ warehouses }).then(
      () => undefined,
      (err: unknown) => rootMessage(err),
    );
  });

  const result: DatasetRunResult = { ...progress(), ...(retentionError ? { retentionError } : {}) };
  const completed = outcomes.flatMap((o) => (o.status === 'completed' ? [o.result] : []));
  upsertMemo({ counts: Object.fromEntries(completed.map((r) => [r.table, r.counts])), ...(allowDeletes ? { allowDeletes: true } : {}) });
  recordCounts(sumCounts(completed.map((r) => r.counts)));
  const failed = outcomes.filter((o): o is Extract<TableOutcome, { status: 'failed' }> => o.status === 'failed');
  if (failed.length > 0) {
    throw ApplicationFailure.create({
      type: 'TableRunsFailed',
      message: `${failed.length} of ${outcomes.length} table(s) failed: ${failed.map((f) => `${f.table}: ${f.error}`).join('; ')}`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}

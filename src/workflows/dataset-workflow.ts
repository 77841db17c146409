/**
 * A dataset's run for a business date: one child workflow per table, a bounded number at a
 * time. A failed table does not stop the others; the run fails at the end, naming them.
 */
import { ApplicationFailure, defineQuery, executeChild, setHandler, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { DatasetConfig } from '../config/types';
import { tableWorkflowId } from './ids';
import { MODE_KEY, TABLE_KEY } from './search-attributes';
import { type TableRunResult, tableWorkflow } from './table-workflow';

export interface DatasetWorkflowInput {
  config: DatasetConfig;
  businessDate: string;
  /** Run only these tables (all when absent). */
  tables?: string[];
  /** Let through what the delete guard refuses (`run --allow-deletes`); recorded in the memo. */
  allowDeletes?: boolean;
}

export type TableOutcome =
  | { table: string; status: 'pending' | 'running' }
  | { table: string; status: 'completed'; result: TableRunResult }
  | { table: string; status: 'failed'; error: string };

export interface DatasetRunResult {
  dataset: string;
  businessDate: string;
  tables: TableOutcome[];
}

export const datasetProgressQuery = defineQuery<DatasetRunResult>('datasetProgressQuery');

/** The innermost message of a failure chain: the activity's own words. */
function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown };
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

export async function datasetWorkflow({ config, businessDate, tables, allowDeletes }: DatasetWorkflowInput): Promise<DatasetRunResult> {
  const unknown = (tables ?? []).filter((name) => !config.tables.some((t) => t.name === name));
  if (unknown.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `dataset ${config.dataset} has no table(s) ${unknown.join(', ')} (tables: ${config.tables.map((t) => t.name).join(', ')})`,
      'ConfigError',
    );
  }
  const selected = config.tables.filter((t) => !tables?.length || tables.includes(t.name));
  const outcomes: TableOutcome[] = selected.map((t) => ({ table: t.name, status: 'pending' }));
  const progress = (): DatasetRunResult => ({ dataset: config.dataset, businessDate, tables: outcomes });
  setHandler(datasetProgressQuery, progress);

  const inherited = workflowInfo().typedSearchAttributes;
  const queue = selected.map((table, index) => ({ table, index }));
  async function lane(): Promise<void> {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { table, index } = next;
      outcomes[index] = { table: table.name, status: 'running' };
      try {
        const result = await executeChild(tableWorkflow, {
          workflowId: tableWorkflowId(config.dataset, businessDate, table.name),
          args: [{ table, businessDate, heartbeatTimeoutSeconds: config.heartbeatTimeoutSeconds, allowDeletes }],
          // Children carry the dataset's search attributes plus their own, where registered.
          typedSearchAttributes: inherited.getAll().length
            ? inherited.updateCopy([
                { key: TABLE_KEY, value: table.name },
                { key: MODE_KEY, value: table.mode },
              ])
            : undefined,
        });
        outcomes[index] = { table: table.name, status: 'completed', result };
      } catch (err) {
        outcomes[index] = { table: table.name, status: 'failed', error: rootMessage(err) };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(config.maxConcurrentTables, selected.length) }, lane));

  const result = progress();
  upsertMemo({
    counts: Object.fromEntries(outcomes.flatMap((o) => (o.status === 'completed' ? [[o.table, o.result.counts]] : []))),
    ...(allowDeletes ? { allowDeletes: true } : {}),
  });
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

/** One table's run for a business date: the stage activities, in order. */
import { defineQuery, proxyActivities, setHandler, upsertMemo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OperationCounts } from '../activities/types';
import type { Mode, TableConfig } from '../config/types';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';

export interface TableWorkflowInput {
  table: TableConfig;
  businessDate: string;
  heartbeatTimeoutSeconds: number;
}

export interface TableRunResult {
  table: string;
  mode: Mode;
  businessDate: string;
  baseDate: string | null;
  counts: OperationCounts;
  currentRows: number;
  historyRows: number;
  currentPath: string;
  historyPath: string;
  durationMs: number;
  /** Stages whose committed output was reused (a retry or a re-run with the same inputs). */
  skippedStages: string[];
}

export const TABLE_STAGES = ['plan', 'extract', 'hash', 'inserts', 'deletes', 'updates', 'write'] as const;

export interface TableProgress {
  stage: (typeof TABLE_STAGES)[number] | 'done';
  stagesDone: number;
  stagesTotal: number;
}

export const tableProgressQuery = defineQuery<TableProgress>('tableProgressQuery');

export async function tableWorkflow({ table, businessDate, heartbeatTimeoutSeconds }: TableWorkflowInput): Promise<TableRunResult> {
  const a = proxyActivities<Activities>({
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
  });

  const started = Date.now();
  let stagesDone = 0;
  let stage: TableProgress['stage'] = 'plan';
  // Sources read in place (files) have no extract stage; the source registry set the flag.
  const stages = TABLE_STAGES.filter((s) => s !== 'extract' || table.source.extract);
  setHandler(tableProgressQuery, () => ({ stage, stagesDone, stagesTotal: stages.length }));
  const skippedStages: string[] = [];
  async function step<R extends object>(name: TableProgress['stage'], run: () => Promise<R>): Promise<R> {
    stage = name;
    const result = await run();
    if ('skipped' in result && result.skipped) skippedStages.push(name);
    stagesDone += 1;
    return result;
  }

  const input = { table, businessDate };
  const { base } = await step('plan', () => a.planTableRun(input));
  if (table.source.extract) await step('extract', () => a.extractSource({ ...input, since: null }));
  const hashed = await step('hash', () => a.hashBatch(input));
  const diffInput = { ...input, base, hashFingerprint: hashed.fingerprint };
  await step('inserts', () => a.determineInserts(diffInput));
  await step('deletes', () => a.determineDeletes(diffInput));
  await step('updates', () => a.determineUpdates(diffInput));
  const written = await step('write', () => a.writeOutputs(diffInput));
  stage = 'done';

  const result: TableRunResult = {
    table: table.name,
    mode: table.mode,
    businessDate,
    baseDate: base?.date ?? null,
    counts: written.counts,
    currentRows: written.currentRows,
    historyRows: written.historyRows,
    currentPath: written.currentPath,
    historyPath: written.historyPath,
    durationMs: Date.now() - started,
    skippedStages,
  };
  upsertMemo({ counts: result.counts, currentRows: result.currentRows, historyRows: result.historyRows });
  return result;
}

/** One table's run for a business date: the stage activities, in order. */
import { defineQuery, setHandler, upsertMemo } from '@temporalio/workflow';
import type { OperationCounts } from '../activities/types';
import type { Mode, TableConfig } from '../config/types';
import { plainStageFailure } from './failures';
import { recordCounts } from './run-attributes';
import { stageActivities } from './stage-activities';

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

export const TABLE_STAGES = ['plan', 'hash', 'inserts', 'deletes', 'updates', 'write'] as const;

export interface TableProgress {
  stage: (typeof TABLE_STAGES)[number] | 'done';
  stagesDone: number;
  stagesTotal: number;
}

export const tableProgressQuery = defineQuery<TableProgress>('tableProgressQuery');

export async function tableWorkflow({ table, businessDate, heartbeatTimeoutSeconds }: TableWorkflowInput): Promise<TableRunResult> {
  const a = stageActivities(heartbeatTimeoutSeconds, table.name, businessDate);

  const started = Date.now();
  let stagesDone = 0;
  let stage: TableProgress['stage'] = 'plan';
  setHandler(tableProgressQuery, () => ({ stage, stagesDone, stagesTotal: TABLE_STAGES.length }));
  const skippedStages: string[] = [];
  async function step<R extends object>(name: TableProgress['stage'], run: () => Promise<R>): Promise<R> {
    stage = name;
    const result = await run().catch((err: unknown) => {
      throw plainStageFailure(name, err);
    });
    if ('skipped' in result && result.skipped) skippedStages.push(name);
    stagesDone += 1;
    return result;
  }

  const input = { table, businessDate };
  const { base } = await step('plan', () => a.planTableRun(input));
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
  recordCounts(result.counts);
  return result;
}

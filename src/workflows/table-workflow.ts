/** One table's run for a business date: the stage activities, in order. */
import { ApplicationFailure, defineQuery, setHandler, upsertMemo } from '@temporalio/workflow';
import type { DiffInput, ExtractResult, HashResult, OperationCounts, PlanResult, SinkReport, WriteResult } from '../activities/types';
import type { ChangeCounts } from '../changes/counts';
import type { Mode, TableConfig } from '../config/types';
import type { DumpLink, MissingKeys } from './backfill';
import { bucketCount, tableBuckets } from './buckets';
import { awaitSourceFiles } from './await-source-files';
import { type DeleteGuardVerdict, guardDiff, refusalMessage } from './delete-guard';
import { innerStage, plainStageFailure } from './failures';
import { recordCounts } from './run-attributes';
import { applySinks } from './sink-stage';
import { stageActivities } from './stage-activities';
import { MAX_REBASES } from './whole-run';

export interface TableWorkflowInput {
  table: TableConfig;
  businessDate: string;
  heartbeatTimeoutSeconds: number;
  /** Let through what the delete guard refuses (`run --allow-deletes`). */
  allowDeletes?: boolean;
  /** Set in a dump's table runs (see DatasetWorkflowInput). */
  dump?: DumpLink;
}

export interface TableRunResult extends MissingKeys {
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
  /** Times the run diffed again because another run of the table committed first. */
  rebases: number;
  /** What each sink applied (tables with sinks). */
  sinks?: SinkReport[];
  /** Change-record tables: events by kind, duplicate deliveries, stale events. */
  changes?: ChangeCounts;
}

function isStaleBase(err: unknown): boolean {
  // Stage failures arrive restated by plainStageFailure, which keeps the activity's error type.
  return err instanceof ApplicationFailure && err.type === 'StaleBaseError';
}

export const TABLE_STAGES = ['plan', 'extract', 'hash', 'diff', 'write', 'sinks'] as const;

export interface TableProgress {
  stage: (typeof TABLE_STAGES)[number] | 'waiting for files' | 'done';
  stagesDone: number;
  stagesTotal: number;
}

export const tableProgressQuery = defineQuery<TableProgress>('tableProgressQuery');

export async function tableWorkflow({ table, businessDate, heartbeatTimeoutSeconds, allowDeletes, dump }: TableWorkflowInput): Promise<TableRunResult> {
  const a = stageActivities(heartbeatTimeoutSeconds, table.name, businessDate);

  const started = Date.now();
  let stagesDone = 0;
  let stage: TableProgress['stage'] = 'plan';
  // Sources read in place (files) have no extract stage; the source registry set the flag.
  const sinks = table.sinks ?? [];
  const stages = TABLE_STAGES.filter((s) => (s !== 'extract' || table.source.extract) && (s !== 'sinks' || sinks.length > 0));
  setHandler(tableProgressQuery, () => ({ stage, stagesDone, stagesTotal: stages.length }));
  const deleteGuardRefusal = (reason: string) => ApplicationFailure.create({ type: 'DataError', message: refusalMessage(reason, table, businessDate), nonRetryable: true });
  const skippedStages: string[] = [];
  // A stage of one of n buckets counts as 1/n of the stage.
  async function step<R extends object>(name: TableProgress['stage'], run: () => Promise<R>, share = 1): Promise<R> {
    stage = name;
    const result = await run().catch((err: unknown) => {
      throw plainStageFailure(innerStage(err) ?? name, err);
    });
    if ('skipped' in result && result.skipped && !skippedStages.includes(name)) skippedStages.push(name);
    stagesDone = Math.round((stagesDone + share) * 100) / 100;
    return result;
  }

  const input = { table, businessDate };
  const waitForFiles = 'waitForFiles' in table.source ? table.source.waitForFiles : undefined;
  if (waitForFiles) {
    stage = 'waiting for files';
    await awaitSourceFiles(a, input, waitForFiles);
  }
  const allowAll = Boolean(allowDeletes || table.allowDeletes);
  let plan: PlanResult;
  let extracted: ExtractResult | undefined;
  let hashed: HashResult;
  let rebases = 0;
  let written: WriteResult | undefined;
  let guard: DeleteGuardVerdict | undefined;
  if (table.source.extract) {
    plan = await step('plan', () => a.planTableRun(input));
    // A delta reads rows changed since the watermark committed with its base.
    const since = table.mode === 'delta' ? (plan.base?.watermark ?? null) : null;
    extracted = await step('extract', () => a.extractSource({ ...input, since, ...(dump ? { dump } : {}) }));
    hashed = await step('hash', () => a.hashBatch(input));
  } else {
    // Plan and hash in one activity, and a small batch's diff and write too (see whole-run.ts).
    const together = await step('plan', () => a.runTableStages({ ...input, allowDeletes: allowAll }), 0);
    ({ plan, hashed, rebases, guard, written } = together);
    for (const s of together.skippedStages) if (!skippedStages.includes(s)) skippedStages.push(s);
    stagesDone = written ? 4 : guard ? 3 : 2;
  }
  if (guard?.verdict === 'refuse') throw deleteGuardRefusal(guard.reason);
  const stagesBeforeDiff = stagesDone;
  // Big tables run their diff as key-hash buckets, in parallel, on any worker.
  const buckets = tableBuckets(bucketCount(table, hashed.rows));
  const share = 1 / buckets.length;
  const diffBucket = async (bucketInput: DiffInput) => (await step('diff', () => a.diffBatch(bucketInput), share)).counts;
  while (!written) {
    const diffInput = {
      ...input,
      base: plan.base,
      head: plan.head,
      headDate: plan.latestCommitted,
      hashFingerprint: hashed.fingerprint,
      // A keys-only dump read a few keys: the next delta must still read every other change since its base.
      watermark: dump?.keys?.table === table.name ? (plan.base?.watermark ?? null) : (extracted?.watermark ?? null),
      ...(plan.addedColumns ? { addedColumns: plan.addedColumns } : {}),
    };
    const bucketCounts = await Promise.all(buckets.map((bucket) => diffBucket(bucket ? { ...diffInput, bucket } : diffInput)));
    const counts: Partial<OperationCounts> = {};
    for (const c of bucketCounts) for (const [op, n] of Object.entries(c) as [keyof OperationCounts, number][]) counts[op] = (counts[op] ?? 0) + n;
    guard = guardDiff(table, hashed.rows, counts, allowAll);
    if (guard.verdict === 'refuse') throw deleteGuardRefusal(guard.reason);
    try {
      const writeInput = buckets.length > 1 ? { ...diffInput, buckets: buckets.length } : diffInput;
      written = await step('write', () => a.writeOutputs(writeInput));
    } catch (err) {
      if (!isStaleBase(err) || rebases >= MAX_REBASES) throw err;
      // Another run of the table committed first: diff again on its state (or be refused as older).
      rebases += 1;
      plan = await step('plan', () => a.planTableRun(input));
      stagesDone = stagesBeforeDiff;
    }
  }
  const sinkReports = sinks.length > 0 ? (await step('sinks', () => applySinks(a, input, sinks))).reports : undefined;
  stage = 'done';

  const result: TableRunResult = {
    table: table.name,
    mode: table.mode,
    businessDate,
    baseDate: plan.base?.date ?? null,
    counts: written.counts,
    currentRows: written.currentRows,
    historyRows: written.historyRows,
    currentPath: written.currentPath,
    historyPath: written.historyPath,
    durationMs: Date.now() - started,
    skippedStages,
    rebases,
    ...(sinkReports ? { sinks: sinkReports } : {}),
    ...(written.changes ? { changes: written.changes } : {}),
    ...(extracted?.missingKeys ? { missingKeys: extracted.missingKeys } : {}),
    ...(extracted?.missingKeyCount ? { missingKeyCount: extracted.missingKeyCount } : {}),
  };
  upsertMemo({
    counts: result.counts,
    ...(result.changes ? { changes: result.changes } : {}),
    currentRows: result.currentRows,
    historyRows: result.historyRows,
    ...(guard?.verdict === 'override' ? { deleteGuardOverridden: guard.reason } : {}),
  });
  recordCounts(result.counts);
  return result;
}

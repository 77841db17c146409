/**
 * The tables of a dataset's date that need a run again: those whose latest table run did not
 * complete, and those a dataset run of the date was asked to run but never started (it failed
 * or was terminated first). Table runs have fixed IDs (cdcflow/<dataset>/<date>/<table>) and are
 * described directly, as is the latest dataset run (cdcflow/<dataset>/<date>): no reliance on the
 * visibility store, which may lag a run that just ended; only the earlier dataset runs of the
 * date, and those a Schedule started, come from it. A dump that committed a table of the date
 * after its failed run (its table runs have IDs of their own, which the dataset's queue lists)
 * repaired it: re-running the date would replace the dump's commit. A table whose run failed only
 * in its sinks, and that a later date's run has completed since, needs nothing either (see
 * sinksCaughtUpBy).
 */
import { type Client, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DatasetConfig, Mode } from '../config/types';
import type { DatasetWorkflowInput, TableWorkflowInput } from '../workflows';
import { backfillTableWorkflowId, datasetWorkflowId, tableWorkflowId } from '../workflows/ids';
import { tableMode } from '../workflows/mode-override';
import { BUSINESS_DATE_KEY, DATASET_KEY, TABLE_KEY } from '../workflows/search-attributes';
import { queuedDumps } from './dataset-queue';
import { queryString } from './find-runs';
import { startInput } from './start-input';

export interface FailedTable {
  table: string;
  /** Temporal's status of the table's latest run, or NOT_STARTED: a dataset run of the date never started it. */
  state: string;
  /** The mode that run used or would have used (a schedule may have overridden the config's). */
  mode: Mode;
  /** That run was started with --allow-deletes. */
  allowDeletes: boolean;
}

/** A table whose run of the date failed in its sinks only, whose sinks a later date's run brought up to date. */
export interface CaughtUpTable {
  table: string;
  /** The business date of that later run. */
  by: string;
}

interface Execution {
  workflowId: string;
  runId: string;
  startTime: Date;
  closeTime?: Date;
  status: { name: string };
}

const FAILED_STATES = ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED'];

async function latestRun(client: Client, workflowId: string): Promise<Execution | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** The table runs of the date's dumps that completed, by table: each table's newest. */
async function completedDumpRuns(client: Client, config: DatasetConfig, businessDate: string): Promise<Map<string, Execution>> {
  const found = new Map<string, Execution>();
  for (const dump of (await queuedDumps(client, config.dataset)).filter((d) => d.businessDate === businessDate)) {
    for (const table of config.tables) {
      const run = await latestRun(client, backfillTableWorkflowId(config.dataset, dump.requestId, table.name));
      if (run?.status.name === 'COMPLETED') found.set(table.name, newest(found.get(table.name), run)!);
    }
  }
  return found;
}

function newest(a: Execution | undefined, b: Execution | undefined): Execution | undefined {
  return !a || (b && b.startTime > a.startTime) ? b : a;
}

/** The failure type of a run that failed (`SinkFailed`, …). */
async function failureType(client: Client, run: Execution): Promise<string | undefined> {
  try {
    await client.workflow.getHandle(run.workflowId, run.runId, { followRuns: false }).result();
    return undefined;
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : err;
    return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
  }
}

/**
 * The business date of a run of the table for a later date that completed after `failed` ended,
 * when `failed` failed in its sinks only (`SinkFailed`: its commit stands). That run's sinks
 * applied every committed date up to its own, this one too, and this date can no longer run
 * again (only the latest date can). Found through the search attributes.
 */
async function sinksCaughtUpBy(client: Client, dataset: string, table: string, businessDate: string, failed: Execution): Promise<string | undefined> {
  if (!failed.closeTime || (await failureType(client, failed)) !== 'SinkFailed') return undefined;
  const query =
    `WorkflowType = "tableWorkflow" AND ExecutionStatus = "Completed" AND ${DATASET_KEY.name} = ${queryString(dataset)} ` +
    `AND ${TABLE_KEY.name} = ${queryString(table)} AND StartTime > "${failed.closeTime.toISOString()}"`;
  const later: string[] = [];
  for await (const run of client.workflow.list({ query })) {
    const date = run.typedSearchAttributes.get(BUSINESS_DATE_KEY);
    if (date && date > businessDate) later.push(date);
  }
  return later.sort().at(-1);
}

/**
 * The closed dataset runs of the date, newest first: those of its fixed ID (`cdcflow run`) and,
 * when runs carry cdcflow's search attributes, those a Schedule started under IDs of their own.
 */
async function datasetRuns(client: Client, dataset: string, businessDate: string, searchAttributes: boolean): Promise<Execution[]> {
  const workflowId = datasetWorkflowId(dataset, businessDate);
  const latest = await latestRun(client, workflowId);
  const runs = new Map(latest ? [[latest.runId, latest]] : []);
  const queries = [
    ...(latest ? [`WorkflowId = ${queryString(workflowId)}`] : []),
    ...(searchAttributes
      ? [`WorkflowType = "datasetWorkflow" AND ${DATASET_KEY.name} = ${queryString(dataset)} AND ${BUSINESS_DATE_KEY.name} = ${queryString(businessDate)}`]
      : []),
  ];
  for (const query of queries) for await (const run of client.workflow.list({ query })) if (!runs.has(run.runId)) runs.set(run.runId, run);
  return [...runs.values()].filter((r) => r.status.name !== 'RUNNING').sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
}

/** The dataset run was to run this table: its config has it, and its table list (if any) names it. */
function ranTable(input: DatasetWorkflowInput, table: string): boolean {
  return input.config.tables.some((t) => t.name === table) && (!input.tables?.length || input.tables.includes(table));
}

export async function failedTables(
  client: Client,
  config: DatasetConfig,
  businessDate: string,
  searchAttributes: boolean,
): Promise<{ failed: FailedTable[]; caughtUp: CaughtUpTable[] }> {
  const runs = await datasetRuns(client, config.dataset, businessDate, searchAttributes);
  const inputs = new Map<string, Promise<DatasetWorkflowInput | undefined>>();
  const inputOf = (run: Execution) => {
    if (!inputs.has(run.runId)) inputs.set(run.runId, startInput<DatasetWorkflowInput>(client, run.workflowId, run.runId));
    return inputs.get(run.runId)!;
  };
  const dumped = await completedDumpRuns(client, config, businessDate);
  const failed: FailedTable[] = [];
  const caughtUp: CaughtUpTable[] = [];
  for (const table of config.tables) {
    const run = newest(await latestRun(client, tableWorkflowId(config.dataset, businessDate, table.name)), dumped.get(table.name));
    const by = run?.status.name === 'FAILED' && searchAttributes ? await sinksCaughtUpBy(client, config.dataset, table.name, businessDate, run) : undefined;
    if (by) {
      caughtUp.push({ table: table.name, by });
      continue;
    }
    if (run && FAILED_STATES.includes(run.status.name)) {
      // The table re-runs as it ran: its input holds the mode it used and whether deletes were allowed.
      const input = await startInput<TableWorkflowInput>(client, run.workflowId, run.runId);
      failed.push({ table: table.name, state: run.status.name, mode: input?.table.mode ?? table.mode, allowDeletes: Boolean(input?.allowDeletes) });
      continue;
    }
    // A dataset run started after the table's latest run, and asked to run the table, never started it.
    for (const datasetRun of runs.filter((r) => !run || r.startTime > run.startTime)) {
      const input = await inputOf(datasetRun);
      // A dump's tables run under IDs of their own: a dump is requested again, not retried.
      // A table the run's config lacked (added since) was never the run's to start.
      if (input && !input.dump && ranTable(input, table.name)) {
        failed.push({
          table: table.name,
          state: 'NOT_STARTED',
          mode: tableMode(table, input.mode),
          allowDeletes: Boolean(input.allowDeletes || input.allowDeletesTables?.includes(table.name)),
        });
        break;
      }
    }
  }
  return { failed, caughtUp };
}

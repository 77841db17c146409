/**
 * Integration-test harness: a real worker (the project's createWorker) on a unique task queue
 * against the real Temporal dev server started by global-setup, with a real DuckDB engine.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { parse, stringify } from 'yaml';
import type { ActivityDeps } from '../../src/activities';
import { startDatasetRun } from '../../src/client/start-run';
import { loadConfig } from '../../src/config/load';
import type { DatasetConfig } from '../../src/config/types';
import type { GenerateResult } from '../../src/generator/generate';
import { Engine } from '../../src/engine/duckdb';
import { engineSettings, type TemporalSettings, temporalSettings } from '../../src/settings';
import { lakeTables, withCatalog } from '../../src/warehouse/catalog';
import { readCommitLog } from '../../src/warehouse/commits';
import { createWorker } from '../../src/worker';
import type { DatasetRunResult, DatasetWorkflowInput, TableOutcome } from '../../src/workflows';

export interface Harness {
  client: Client;
  settings: TemporalSettings;
  engine: Engine;
  worker: Worker;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

export async function startHarness(deps: Partial<ActivityDeps> = {}): Promise<Harness> {
  if (!runtimeInstalled) {
    // Workers log every state change at INFO; tests need only errors (failed runs are expected in many).
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const settings: TemporalSettings = { ...temporalSettings(), taskQueue: `test-${randomUUID()}` };
  const engine = await Engine.create({ ...engineSettings(), threads: 2, tempDirectory: path.join(tmpdir(), 'cdcflow-test-duckdb') });
  const nativeConnection = await NativeConnection.connect({ address: settings.address });
  const worker = await createWorker({
    connection: nativeConnection,
    settings,
    deps: { engine, heartbeatIntervalMs: 200, ...deps },
    workflowBundlePath: process.env.CDCFLOW_TEST_WORKFLOW_BUNDLE,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  return {
    client,
    settings,
    engine,
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
      await engine.close();
    },
  };
}

export type RunOutcome = { ok: true; result: DatasetRunResult } | { ok: false; error: string; type?: string; result?: DatasetRunResult };

export async function runDataset(
  h: Pick<Harness, 'client' | 'settings'>,
  config: DatasetConfig,
  businessDate: string,
  tables?: string[],
  input: Partial<DatasetWorkflowInput> = {},
): Promise<RunOutcome> {
  const { handle } = await startDatasetRun(h.client, h.settings, { ...input, config, businessDate, tables });
  try {
    return { ok: true, result: await handle.result() };
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : err;
    if (cause instanceof ApplicationFailure) {
      return { ok: false, error: cause.message, type: cause.type ?? undefined, result: cause.details?.[0] as DatasetRunResult | undefined };
    }
    throw err;
  }
}

/** The completed result of one table, or a test failure that says what happened instead. */
/** The run, which must have succeeded. */
export function succeeded(outcome: RunOutcome): RunOutcome {
  if (!outcome.ok) throw new Error(`run failed: ${outcome.error}`);
  return outcome;
}

/** The error of `table`, which must have failed in the run. */
export function failedTable(outcome: RunOutcome, table: string): string {
  const t = outcome.result?.tables.find((o) => o.table === table);
  if (!t || t.status !== 'failed') throw new Error(`table ${table} did not fail: ${JSON.stringify(outcome)}`);
  return (t as Extract<TableOutcome, { status: 'failed' }>).error;
}

/** Writes text lines as a file (creating folders), exactly as given. */
export function writeLines(file: string, lines: string[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`);
}

export function tableResult(outcome: RunOutcome, table: string) {
  const t = outcome.result?.tables.find((o) => o.table === table);
  if (!t || t.status !== 'completed') {
    throw new Error(`table ${table} did not complete: ${JSON.stringify(outcome)}`);
  }
  return t.result;
}

export function tempDir(prefix = 'cdcflow-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A dataset name no other test uses, so workflow IDs never collide on the shared server. */
export function uniqueDataset(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The same config under another dataset name (tests share one server, so names must differ). */
export function renameDataset(config: DatasetConfig, dataset: string): DatasetConfig {
  return { ...config, dataset, tables: config.tables.map((t) => ({ ...t, dataset })) };
}

/** Writes a config file as a user would and loads it through the real loader. */
export function writeConfig(dir: string, file: object, inputDir?: string): DatasetConfig {
  const configPath = path.join(dir, 'dataset.yaml');
  writeFileSync(configPath, stringify(file));
  return loadConfig(configPath, { inputDir });
}

export function writeCsv(file: string, header: string[], rows: (string | number | null)[][]): void {
  const cell = (v: string | number | null) => (v === null ? '' : String(v));
  writeFileSync(file, [header.join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n');
}

/** Rows of Parquet files as JSON, ordered, for assertions (small test data only). */
export async function readRows(engine: Engine, fileOrGlob: string, orderBy: string, exclude: string[] = ['KEY_HASH', 'NONKEY_HASH']): Promise<Record<string, unknown>[]> {
  const ex = exclude.length ? ` EXCLUDE (${exclude.join(', ')})` : '';
  return engine.withSession((s) =>
    s.rows(`SELECT *${ex} FROM read_parquet('${fileOrGlob.replace(/'/g, "''")}', hive_partitioning = true) ORDER BY ${orderBy}`),
  );
}

/** The table's committed business dates, from the DuckLake commit log. */
export async function committedDates(engine: Engine, warehouse: string, dataset: string, table: string): Promise<string[]> {
  return withCatalog(engine, warehouse, async (s, alias) => (await readCommitLog(s, lakeTables(alias, dataset, table))).map((c) => c.businessDate));
}

/**
 * Fresh folders for the tests of one file, each holding dataset.yaml, the sources (relative
 * paths) and the warehouse `wh`; `removeAll` deletes them.
 */
export function datasetFolders(prefix: string) {
  const dirs: string[] = [];
  return {
    setup(tables: object[], extra: object = {}): { dir: string; config: DatasetConfig } {
      const dir = tempDir(`cdcflow-${prefix}-`);
      dirs.push(dir);
      const config = writeConfig(dir, { dataset: uniqueDataset(prefix), warehouse: 'wh', ...extra, tables });
      return { dir, config };
    },
    removeAll(): void {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/**
 * The generated example's config written again under another dataset name and warehouse, with
 * a short heartbeat timeout (for tests that kill workers); `at(day)` loads it for day1 or day2.
 */
export function generatedConfig(
  gen: GenerateResult,
  dataset: string,
  warehouse: string,
  heartbeatTimeoutSeconds: number,
): { file: string; at(day: 'day1' | 'day2'): DatasetConfig } {
  const doc = parse(readFileSync(gen.files.config, 'utf8')) as Record<string, unknown>;
  Object.assign(doc, { dataset, warehouse, heartbeatTimeoutSeconds });
  const file = path.join(path.dirname(gen.files.config), `${dataset}.yaml`);
  writeFileSync(file, stringify(doc));
  return { file, at: (day) => loadConfig(file, { inputDir: path.join(path.dirname(gen.files.config), day) }) };
}

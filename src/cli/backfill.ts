import { createHash, randomUUID } from 'node:crypto';
import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { checkRequestedKeys } from '../activities/key-scope';
import { keysForSignal, parseKeyOption, readKeysFile } from '../client/backfill-keys';
import { checkedDate } from '../client/checked-date';
import { datasetQueueStatus, queuedDumps, signalDatasetQueue } from '../client/dataset-queue';
import { dumpTableNotes, hasWorker } from '../client/progress';
import { withClient } from '../client/with-client';
import { loadConfig } from '../config/load';
import { Engine } from '../engine/duckdb';
import type { DatasetConfig, TableConfig } from '../config/types';
import { ConfigError } from '../errors';
import { runUrl, type TemporalSettings, temporalSettings } from '../settings';
import type { DatasetRunResult } from '../workflows';
import { backfillSignal, type BackfillRequest, cancelSignal, type DatasetQueueStatus, type DumpStatus, pauseSignal, resumeSignal } from '../workflows/backfill';
import { distinctKeys, dumpScope, refuseChangeFiles } from '../workflows/dump-scope';
import { datasetQueueWorkflowId } from '../workflows/ids';
import { tableList } from './options';
import { formatRunReport, pad } from './report';

interface BackfillOptions {
  config: string;
  input?: string;
  tables?: string;
  key: string[];
  keysFile?: string;
  date?: string;
  requestId?: string;
  wait: boolean;
  status?: boolean;
  pause?: boolean;
  resume?: boolean;
  cancel?: string | true;
  json?: boolean;
}

export function backfillCommand(): Command {
  return new Command('backfill')
    .description("dump the dataset's source (all tables, some tables, or some keys of one table) through the dataset's queue, and wait for it")
    .requiredOption('--config <file>', 'dataset config (YAML)')
    .option('--input <dir>', 'folder that relative source paths resolve against')
    .option('--tables <a,b>', 'dump only these tables')
    .option('--key <k=v,...>', 'dump only this key (repeatable); all key columns named', (v: string, all: string[]) => [...all, v], [])
    .option('--keys-file <file>', 'dump only the keys in this CSV file (header: the key columns)')
    .option('--date <YYYY-MM-DD>', 'business date the dump commits as (default: today, UTC)')
    .option('--request-id <id>', 'names the request: sending the same id again is the same dump (default: a new id)')
    .option('--no-wait', 'return once the request is queued')
    .option('--status', "print the dataset's queue: dumps with per-table phase, chunks and rows")
    .option('--pause', "pause the dataset's dumps (at the next chunk); runs go on")
    .option('--resume', 'resume paused dumps')
    .option('--cancel [requestId]', 'cancel a dump (all queued and running dumps without an id)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts: BackfillOptions) => {
      process.exitCode = await backfill(opts);
    });
}

async function backfill(opts: BackfillOptions): Promise<number> {
  const config = loadConfig(opts.config, { inputDir: opts.input });
  const settings = temporalSettings();
  const controls = [opts.status, opts.pause, opts.resume, opts.cancel].filter(Boolean).length;
  if (controls > 1) throw new ConfigError('give one of --status, --pause, --resume and --cancel');
  return withClient(settings, async (client) => {
    const send = <A extends unknown[]>(signal: Parameters<typeof signalDatasetQueue<A>>[3], args: A) =>
      signalDatasetQueue(client, settings.taskQueue, config.dataset, signal, args, settings.searchAttributes);
    if (opts.status) {
      const status = await datasetQueueStatus(client, config.dataset);
      process.stdout.write(opts.json ? `${JSON.stringify(status)}\n` : `${formatQueueStatus(status)}\n`);
      return 0;
    }
    if (opts.pause) await send(pauseSignal, []);
    else if (opts.resume) await send(resumeSignal, []);
    else if (opts.cancel === true) await send(cancelSignal, [{}]);
    else if (opts.cancel) {
      await refuseCancelOfNoDump(client, config.dataset, opts.cancel);
      await send(cancelSignal, [{ requestId: opts.cancel }]);
    }
    if (controls) {
      process.stdout.write(`${opts.pause ? 'paused' : opts.resume ? 'resumed' : 'cancel sent'}: ${datasetQueueWorkflowId(config.dataset)}\n`);
      return 0;
    }
    const request = backfillRequest(config, opts);
    const keysTable = request.keys && config.tables.find((t) => t.name === request.keys!.table)!;
    const keyRows = request.keys?.rows ?? [];
    if (keysTable) await checkKeys(keysTable, keyRows);
    if (opts.requestId) await refuseReusedRequestId(client, config.dataset, request);
    // Stored only now, after the checks: a refused request leaves no file behind.
    await send(backfillSignal, [keysTable ? { ...request, keys: await keysForSignal(keysTable, keyRows) } : request]);
    if (!opts.json) process.stderr.write(`requested ${request.requestId}: ${datasetQueueWorkflowId(config.dataset)}\n  ${await latestRunUrl(client, settings, datasetQueueWorkflowId(config.dataset))}\n`);
    if (!opts.wait) {
      if (opts.json) process.stdout.write(`${JSON.stringify({ requestId: request.requestId, queued: true })}\n`);
      return 0;
    }
    const dump = await waitForDump(client, settings, config.dataset, request.requestId, Boolean(opts.json));
    const run = dump.state === 'completed' ? await client.workflow.getHandle<() => Promise<DatasetRunResult>>(dump.workflowId).result() : undefined;
    const missing = Object.entries(dump.tables).flatMap(([table, t]) => [
      ...(t.missingKeys ?? []).map((k) => `${table} ${k}`),
      ...(t.missingKeyCount ? [`${table} and ${t.missingKeyCount - (t.missingKeys?.length ?? 0)} more (${t.missingKeyCount} in all)`] : []),
    ]);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ...dump, ...(run ? { run } : {}) })}\n`);
    } else {
      if (run) process.stdout.write(`${formatRunReport(run)}\n`);
      if (missing.length) process.stdout.write(`keys found neither at the source nor in the committed state:\n${missing.map((m) => `  ${m}`).join('\n')}\n`);
      if (dump.state !== 'completed') process.stderr.write(`backfill ${dump.state}${dump.error ? `: ${dump.error}` : ''}\n`);
      process.stdout.write(`Temporal UI: ${await latestRunUrl(client, settings, dump.workflowId)}\n`);
    }
    return dump.state === 'completed' ? 0 : 1;
  });
}

function backfillRequest(config: DatasetConfig, opts: BackfillOptions): BackfillRequest {
  if (opts.date) checkedDate('--date', opts.date);
  const request: BackfillRequest = { requestId: opts.requestId ?? randomUUID(), config, ...(opts.date ? { businessDate: opts.date } : {}) };
  const scope = requestScope(config, opts);
  return { ...request, ...scope, digest: createHash('sha256').update(JSON.stringify({ ...scope, businessDate: opts.date })).digest('hex') };
}

/** The tables or keys asked for. */
function requestScope(config: DatasetConfig, opts: BackfillOptions): Pick<BackfillRequest, 'tables' | 'keys'> {
  const tables = tableList(config, opts.tables);
  if (!opts.key.length && !opts.keysFile) {
    refuseChangeFiles(config, tables ?? config.tables.map((t) => t.name));
    return tables?.length ? { tables } : {};
  }
  if (tables?.length !== 1) throw new ConfigError('--key and --keys-file need --tables naming the one table the keys belong to');
  const table = config.tables.find((t) => t.name === tables[0])!;
  const rows = distinctKeys([...opts.key.map((k) => parseKeyOption(k, table)), ...(opts.keysFile ? readKeysFile(opts.keysFile, table) : [])]);
  return { keys: { table: table.name, rows } };
}

/** Cancelling a dump the queue does not have, or one that ended, does nothing: say so rather than "cancel sent". */
async function refuseCancelOfNoDump(client: Client, dataset: string, requestId: string): Promise<void> {
  const dumps = await queuedDumps(client, dataset);
  const dump = dumps.find((d) => d.requestId === requestId);
  if (!dump) throw new ConfigError(`the queue of ${dataset} has no dump ${requestId} (dumps: ${dumps.map((d) => d.requestId).join(', ') || 'none'})`, { dataset });
  if (FINISHED.includes(dump.state)) throw new ConfigError(`dump ${requestId} of ${dataset} is ${dump.state} already: nothing to cancel`, { dataset });
}

/**
 * The queue takes a known request ID for the same dump and ignores what else it carries: the ID
 * of another dump would report that dump as this one's result.
 */
async function refuseReusedRequestId(client: Client, dataset: string, request: BackfillRequest): Promise<void> {
  const known = (await queuedDumps(client, dataset)).find((d) => d.requestId === request.requestId);
  if (!known) return;
  const same = known.digest
    ? known.digest === request.digest
    : known.scope === dumpScope(request, new Date()).description && (!request.businessDate || request.businessDate === known.businessDate);
  if (same) return;
  throw new ConfigError(
    `request ${request.requestId} of ${dataset} is already the dump of ${known.scope} for ${known.businessDate} (${known.state}): give this one another --request-id`,
    { dataset },
  );
}

/** A key value its column's type cannot hold is refused here, before the dump takes the dataset's turn. */
async function checkKeys(table: TableConfig, rows: readonly Record<string, string>[]): Promise<void> {
  const engine = await Engine.create();
  try {
    await engine.withSession((session) => checkRequestedKeys(session, table, rows.map((row) => table.keys.map((k) => row[k.name]))));
  } finally {
    await engine.close();
  }
}

async function latestRunUrl(client: Client, settings: TemporalSettings, workflowId: string): Promise<string> {
  const described = await client.workflow.getHandle(workflowId).describe().catch(() => undefined);
  return described ? runUrl(settings, workflowId, described.runId) : `${workflowId} (not started)`;
}

const FINISHED = ['completed', 'failed', 'cancelled'];

/**
 * Polls the queue's status, printing each table's progress as it changes, until the dump ends.
 * A queue no worker answers for (none polling, one restarting) is waited for, saying so: the
 * request stays queued there and runs once a worker comes.
 */
async function waitForDump(client: Client, settings: TemporalSettings, dataset: string, requestId: string, quiet: boolean): Promise<DumpStatus> {
  let shown = '';
  for (;;) {
    const status = await datasetQueueStatus(client, dataset).catch(() => undefined);
    const dump = status?.dumps.find((d) => d.requestId === requestId);
    if (status && !dump) throw new Error(`request ${requestId} is not in the queue of ${dataset}`);
    const notes = dump?.state === 'running' ? await dumpTableNotes(client, dataset, dump) : '';
    const line = dump
      ? `${dump.state}${Object.entries(dump.tables).map(([t, p]) => `  ${t}: ${p.phase} ${p.chunks} chunk(s) ${p.rows} row(s)`).join('')}${notes}`
      : await noAnswer(client, settings, dataset);
    if (!quiet && line !== shown) process.stderr.write(`${line}\n`);
    shown = line;
    if (dump && FINISHED.includes(dump.state)) return dump;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function noAnswer(client: Client, settings: TemporalSettings, dataset: string): Promise<string> {
  if (!(await hasWorker(client, settings.taskQueue).catch(() => true))) {
    return `waiting for a worker on task queue "${settings.taskQueue}" (start one with: cdcflow worker); the request stays queued`;
  }
  return `no answer from ${datasetQueueWorkflowId(dataset)} (its worker stopped, overloaded or cut off from the server?); still waiting`;
}

export function formatQueueStatus(status: DatasetQueueStatus): string {
  const head = `${status.dataset}: ${status.paused ? 'PAUSED' : 'running'}; active ${status.active ?? '-'}; waiting ${status.waiting.join(', ') || '-'}`;
  if (!status.dumps.length) return `${head}\nno dumps`;
  const rows = status.dumps.flatMap((d) => {
    const tables = Object.entries(d.tables);
    const first = [d.requestId, d.businessDate, d.state, d.scope];
    if (!tables.length) return [[...first, '-', '-', '-', '-']];
    return tables.map(([t, p], i) => [...(i === 0 ? first : ['', '', '', '']), t, p.phase, String(p.chunks), String(p.rows)]);
  });
  const errors = status.dumps.filter((d) => d.error).map((d) => `  ${d.requestId}: ${d.error}`);
  return [head, pad([['request', 'date', 'state', 'scope', 'table', 'phase', 'chunks', 'rows'], ...rows]), ...errors].join('\n');
}

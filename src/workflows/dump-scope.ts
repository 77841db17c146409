/** What a backfill request asks for, checked against the config and turned into a dataset run's input. */
import { ApplicationFailure } from '@temporalio/workflow';
import { isIsoDate } from '../config/iso-date';
import { isSha256 } from '../config/sha256';
import type { DatasetConfig } from '../config/types';
import type { BackfillRequest, DumpLink } from './backfill';
import type { DatasetWorkflowInput } from './dataset-workflow';

/** Each requested key once: a key given twice (two `--key`, a line repeated in the keys file) is one key. */
export function distinctKeys<Row extends Record<string, string>>(rows: readonly Row[]): Row[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const identity = JSON.stringify(Object.keys(row).sort().map((column) => [column, row[column]]));
    if (seen.has(identity)) return false;
    seen.add(identity);
    return true;
  });
}

/** How the request reads in the status, and the date it commits as (today in UTC when not given). */
export function dumpScope(request: BackfillRequest, now: Date): { description: string; businessDate: string } {
  const businessDate = request.businessDate ?? now.toISOString().slice(0, 10);
  if (request.keys) return { description: `${request.keys.file?.count ?? distinctKeys(request.keys.rows ?? []).length} key(s) of ${request.keys.table}`, businessDate };
  return { description: request.tables?.length ? `tables ${request.tables.join(', ')}` : 'all tables', businessDate };
}

function refuse(config: DatasetConfig, message: string): never {
  throw ApplicationFailure.nonRetryable(`backfill of dataset ${config.dataset}: ${message}`, 'ConfigError');
}

/**
 * A dump is a full run, which deletes every key its batch lacks. A table read from files in
 * mode delta (or change records) gets one date's changes from its file, not the whole table.
 */
export function refuseChangeFiles(config: DatasetConfig, tables: readonly string[]): void {
  const partial = config.tables.filter((t) => tables.includes(t.name) && !t.source.extract && (t.mode === 'delta' || t.mode === 'changes'));
  if (!partial.length) return;
  const modes = [...new Set(partial.map((t) => t.mode))].join(', ');
  refuse(
    config,
    `table(s) ${partial.map((t) => t.name).join(', ')} read files of one date's changes (mode ${modes}), not the whole table: ` +
      "as a dump's full run, a date's file would delete every key it lacks; run the date for them (cdcflow run), and name the tables to dump with --tables",
  );
}

/** The dump as a `full` dataset run that already holds the dataset's turn. */
export function dumpRunInput(request: BackfillRequest, config: DatasetConfig, businessDate: string, link: Omit<DumpLink, 'keys'>): DatasetWorkflowInput {
  if (!isIsoDate(businessDate)) refuse(config, `businessDate ${JSON.stringify(businessDate)} is not a date (YYYY-MM-DD)`);
  const names = config.tables.map((t) => t.name);
  const input: DatasetWorkflowInput = { config, businessDate, mode: 'full', holdsTurn: true, dump: link };
  if (!request.keys) {
    const unknown = (request.tables ?? []).filter((t) => !names.includes(t));
    if (unknown.length) refuse(config, `no table(s) ${unknown.join(', ')} (tables: ${names.join(', ')})`);
    refuseChangeFiles(config, request.tables?.length ? request.tables : names);
    return { ...input, tables: request.tables?.length ? request.tables : undefined };
  }
  const { table: name, rows = [], file } = request.keys;
  const table = config.tables.find((t) => t.name === name) ?? refuse(config, `no table ${name} (tables: ${names.join(', ')})`);
  if (!table.source.extract) refuse(config, `a keys-only dump reads a database source; table ${name} is read from files`);
  if (file) {
    if (!isSha256(file.sha256)) refuse(config, `the keys file of table ${name} is named by its SHA-256 (64 hex digits), not ${JSON.stringify(file.sha256)}`);
    return { ...input, tables: [name], dump: { ...link, keys: { table: name, file } } };
  }
  if (!rows.length) refuse(config, `no keys given for table ${name}`);
  const keyNames = table.keys.map((k) => k.name);
  rows.forEach((row, i) => {
    const extra = Object.keys(row).filter((c) => !keyNames.includes(c));
    const missing = keyNames.filter((k) => typeof row[k] !== 'string');
    if (extra.length || missing.length) {
      refuse(config, `key ${i + 1} of table ${name} must give exactly the key column(s) ${keyNames.join(', ')} as text (${JSON.stringify(row)})`);
    }
  });
  const values = distinctKeys(rows).map((row) => keyNames.map((k) => row[k]));
  return { ...input, tables: [name], dump: { ...link, keys: { table: name, values } } };
}

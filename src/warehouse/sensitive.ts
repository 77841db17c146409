/**
 * Sensitive columns (`sensitive: true`): the committed state in the catalog keeps them (they take
 * part in change detection), but the published exports leave them out and a separate dataset
 * holds them, keyed by KEY_HASH, so that access to it can be granted on its own:
 *
 *   <warehouse>/_sensitive/<dataset>/<table>/current.parquet                  KEY_HASH, sensitive columns
 *   <warehouse>/_sensitive/<dataset>/<table>/history/eff_start_date=<D>/data.parquet   + OPERATION
 */
import * as path from 'node:path';
import { columnLabel } from '../config/columns';
import type { ColumnSpec, TableConfig } from '../config/types';
import { quoteIdent } from '../engine/sql';
import { copyTo, type ExportOrder, keyHashOrder, publishCurrentSql } from '../engine/stage-sql';
import { assertIsoDate, assertPathName } from './layout';

type Shape = Pick<TableConfig, 'columns'>;

export function sensitiveColumns(t: Shape): ColumnSpec[] {
  return t.columns.filter((c) => c.sensitive);
}

export function sensitiveNames(t: Shape): string[] {
  return sensitiveColumns(t).map((c) => c.name);
}

/** A table with sensitive columns: its source lines are never quoted in a message. */
export function hasSensitiveColumns(t: Shape): boolean {
  return t.columns.some((c) => c.sensitive);
}

/**
 * Error messages reach the Temporal UI, the CLI and the worker's log, where readers may lack
 * access to the sensitive dataset: a sensitive column's value is named, never shown.
 */
export const WITHHELD_VALUE = '(the value is withheld: the column is sensitive)';
export const WITHHELD_LINE = '(the line is withheld: the table has sensitive columns)';

/**
 * "value "x" in column "c" does not convert exactly to t", or for a sensitive column "a value in
 * column "c" … (the value is withheld …)". `place` follows the column's name (e.g. the row's key).
 */
export function castFailureMessage(column: ColumnSpec, value: string | null, noun: 'column' | 'field' = 'column', place = ''): string {
  const subject = column.sensitive ? 'a value' : `value ${JSON.stringify(value)}`;
  return `${subject} in ${noun} ${columnLabel(column)}${place} does not convert exactly to ${column.type}${column.format === undefined ? '' : ` in format ${column.format}`}${column.timeZone === undefined ? '' : ` in time zone ${column.timeZone}`}${column.sensitive ? ` ${WITHHELD_VALUE}` : ''}`;
}

/** The error context's `value`, left out for a sensitive column. */
export function valueContext(column: { sensitive?: boolean }, value: string | null | undefined): { value?: string } {
  return column.sensitive || value === null || value === undefined ? {} : { value };
}

/**
 * DuckDB's or a database's own text, which may quote a value (`Duplicate key "ssn: …"`): for a
 * table with sensitive columns its quoted parts are withheld, but those in `keep` (file paths).
 */
export function withheldQuotes(t: Shape, text: string, keep: readonly string[] = []): string {
  if (!hasSensitiveColumns(t)) return text;
  return text.replace(/"[^"]*"|'[^']*'/g, (quoted) => (keep.includes(quoted.slice(1, -1)) ? quoted : '(withheld)'));
}

/** A source line quoted for a message, or withheld when the table has sensitive columns. */
export function quotedLine(t: Shape, line: string): string {
  if (hasSensitiveColumns(t)) return WITHHELD_LINE;
  return JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line);
}

export interface SensitiveLayout {
  root: string;
  current: string;
  history(date: string): string;
}

export function sensitiveLayout(warehouse: string, dataset: string, table: string): SensitiveLayout {
  const root = path.join(warehouse, '_sensitive', assertPathName(dataset), assertPathName(table));
  return {
    root,
    current: path.join(root, 'current.parquet'),
    history: (d) => path.join(root, 'history', `eff_start_date=${assertIsoDate(d)}`, 'data.parquet'),
  };
}

/** `* EXCLUDE (...)` of the sensitive columns, or `*`: what the main outputs select. */
export function withoutSensitiveSql(t: Shape): string {
  const names = sensitiveNames(t);
  return names.length ? `* EXCLUDE (${names.map(quoteIdent).join(', ')})` : '*';
}

const sensitiveList = (t: Shape) => sensitiveNames(t).map(quoteIdent).join(', ');

/** The sensitive current export: KEY_HASH and the sensitive columns, sorted like current.parquet. */
export function publishSensitiveCurrentSql(t: Shape, state: string, outPath: string, order: ExportOrder = 'sort'): string {
  return publishCurrentSql(state, outPath, `KEY_HASH, ${sensitiveList(t)}`, order);
}

/** A sensitive history partition from `history`, a date's I, U and D rows: their sensitive values. */
export function publishSensitiveHistorySql(t: Shape, history: string, outPath: string, order: ExportOrder = 'sort'): string {
  return copyTo(`SELECT KEY_HASH, OPERATION, ${sensitiveList(t)} FROM ${history}${keyHashOrder(order)}`, outPath, 'output');
}

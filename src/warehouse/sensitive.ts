/**
 * Sensitive columns (`sensitive: true`): the committed state in the catalog keeps them (they take
 * part in change detection), but the published exports leave them out and a separate dataset
 * holds them, keyed by KEY_HASH, so that access to it can be granted on its own:
 *
 *   <warehouse>/_sensitive/<dataset>/<table>/current.parquet                  KEY_HASH, sensitive columns
 *   <warehouse>/_sensitive/<dataset>/<table>/history/eff_start_date=<D>/data.parquet   + OPERATION
 */
import * as path from 'node:path';
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

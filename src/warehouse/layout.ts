/**
 * Where a table's files live. Dataset and table names are validated against PATH_NAME and
 * business dates against YYYY-MM-DD before they reach here, so no path escapes the warehouse.
 *
 *   <warehouse>/<dataset>/<table>/
 *     current.parquet                            latest committed state (stable path)
 *     history/eff_start_date=<D>/data.parquet    net changes of D: I, U, D
 *     snapshots/business_date=<D>/data.parquet   state as of D (the base for later dates)
 *     snapshots/business_date=<D>/_commit.json   written last: D is committed
 *     _work/business_date=<D>/<stage>.parquet    stage outputs of a run in progress (+ .json)
 */
import * as path from 'node:path';
import { PATH_NAME } from '../config/schema';

export type StageName = 'hashed' | 'inserts' | 'deletes' | 'updates';

export interface TableLayout {
  root: string;
  current: string;
  historyRoot: string;
  history(date: string): string;
  snapshotsRoot: string;
  snapshot(date: string): string;
  commitMarker(date: string): string;
  workDir(date: string): string;
  stageFile(date: string, stage: StageName): string;
  stageManifest(date: string, stage: StageName): string;
}

export function assertIsoDate(date: string): string {
  const parsed = new Date(`${date}T00:00:00Z`);
  // Date rolls 2024-02-30 over to March instead of refusing it; the round trip catches that.
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(date) && !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date);
  if (!valid) throw new Error(`not a valid YYYY-MM-DD date: ${JSON.stringify(date)}`);
  return date;
}

export function tableLayout(warehouse: string, dataset: string, table: string): TableLayout {
  for (const name of [dataset, table]) {
    if (!PATH_NAME.test(name)) throw new Error(`unsafe name for a path: ${JSON.stringify(name)}`);
  }
  const root = path.join(warehouse, dataset, table);
  const snapshotDir = (d: string) => path.join(root, 'snapshots', `business_date=${assertIsoDate(d)}`);
  const workDir = (d: string) => path.join(root, '_work', `business_date=${assertIsoDate(d)}`);
  return {
    root,
    current: path.join(root, 'current.parquet'),
    historyRoot: path.join(root, 'history'),
    history: (d) => path.join(root, 'history', `eff_start_date=${assertIsoDate(d)}`, 'data.parquet'),
    snapshotsRoot: path.join(root, 'snapshots'),
    snapshot: (d) => path.join(snapshotDir(d), 'data.parquet'),
    commitMarker: (d) => path.join(snapshotDir(d), '_commit.json'),
    workDir,
    stageFile: (d, stage) => path.join(workDir(d), `${stage}.parquet`),
    stageManifest: (d, stage) => path.join(workDir(d), `${stage}.json`),
  };
}

/**
 * Where a table's files live. Dataset and table names are validated against PATH_NAME and
 * business dates against YYYY-MM-DD before they reach here, so no path escapes the warehouse.
 *
 *   <warehouse>/
 *     catalog.sqlite                           the DuckLake catalog (default; see catalog.ts)
 *     _lake/                                   DuckLake's data files (current, history, commits)
 *     _work/<dataset>/<table>/business_date=<D>/   stage outputs of a run in progress
 *       source/                                  copies of its S3 source files, while the hash stage reads them
 *     _work/<dataset>/<table>/publish/         temporary files of the published exports
 *     <dataset>/<table>/                       the published exports, for plain Parquet readers:
 *       current.parquet                          latest committed state
 *       history/eff_start_date=<D>/data.parquet  net changes of D: I, U, D
 *       _published.json                          which commit each export was written from
 *     _sensitive/<dataset>/<table>/            the sensitive columns' exports (see sensitive.ts)
 *
 * Nothing uncommitted is ever under <dataset>/: temporary files live in _work/.
 */
import * as path from 'node:path';
import { isIsoDate } from '../config/iso-date';
import { PATH_NAME } from '../config/schema';
import { type Bucket, bucketLabel } from '../engine/key-buckets';

/**
 * Stage outputs: the hashed batch, and a bucket's share of the commit's files as the diff wrote
 * them (diff-batch.ts): the state, the history and, for change records, the ordering state.
 */
export type StageName = 'hashed' | 'state' | 'history' | 'order';

export interface TableLayout {
  root: string;
  current: string;
  historyRoot: string;
  history(date: string): string;
  publishManifest: string;
  /** Temporary files of the exports: same file system as `root`, outside every reader's glob. */
  publishTmp: string;
  tableWork: string;
  workDir(date: string): string;
  /** Where the hash stage downloads the batch's S3 objects to read them. */
  sourceCopies(date: string): string;
  /** A stage's output; a bucket's own when the run has more than one. */
  stageFile(date: string, stage: StageName, bucket?: Bucket): string;
  stageManifest(date: string, stage: StageName, bucket?: Bucket): string;
}

export { isIsoDate };

export function assertIsoDate(date: string): string {
  if (!isIsoDate(date)) throw new Error(`not a valid YYYY-MM-DD date: ${JSON.stringify(date)}`);
  return date;
}

export function assertPathName(name: string): string {
  if (!PATH_NAME.test(name)) throw new Error(`unsafe name for a path: ${JSON.stringify(name)}`);
  return name;
}

const WORK_DIR_PREFIX = 'business_date=';

/** Whether a folder's name is a run's stage folder (`workDir`). */
export function isWorkDirName(name: string): boolean {
  return name.startsWith(WORK_DIR_PREFIX) && isIsoDate(name.slice(WORK_DIR_PREFIX.length));
}

/** The file beside a table's exports that says which commit each was written from. */
export const PUBLISH_MANIFEST = '_published.json';

export function tableLayout(warehouse: string, dataset: string, table: string): TableLayout {
  const root = path.join(warehouse, assertPathName(dataset), assertPathName(table));
  const tableWork = path.join(warehouse, '_work', dataset, table);
  const workDir = (d: string) => path.join(tableWork, `${WORK_DIR_PREFIX}${assertIsoDate(d)}`);
  const stageName = (stage: StageName, bucket?: Bucket) => (bucket && bucket.count > 1 ? `${stage}.${bucketLabel(bucket)}` : stage);
  return {
    root,
    current: path.join(root, 'current.parquet'),
    historyRoot: path.join(root, 'history'),
    history: (d) => path.join(root, 'history', `eff_start_date=${assertIsoDate(d)}`, 'data.parquet'),
    publishManifest: path.join(root, PUBLISH_MANIFEST),
    publishTmp: path.join(tableWork, 'publish'),
    tableWork,
    workDir,
    sourceCopies: (d) => path.join(workDir(d), 'source'),
    stageFile: (d, stage, bucket) => path.join(workDir(d), `${stageName(stage, bucket)}.parquet`),
    stageManifest: (d, stage, bucket) => path.join(workDir(d), `${stageName(stage, bucket)}.json`),
  };
}

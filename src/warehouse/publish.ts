/**
 * The published exports for plain Parquet readers (current.parquet and the Hive-partitioned
 * history), written from the catalog after a commit by roll-forward: each export whose commit
 * differs from what `_published.json` records is written again (to a temporary file outside
 * the readers' folders, then renamed), so a retry or the next run completes what a crash left.
 * current.parquet is a link to the state file the commit registered, and a history partition
 * to its history file; for several bucket files, their bytes joined in bucket order
 * (parquet-concat.ts). Copies through DuckDB remain for exports with columns split off, files
 * on a remote data path, and a commit that wrote none (through the catalog). All are in
 * KEY_HASH order, so the same commit always gives the same bytes.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { namedDates } from '../config/iso-date';
import type { TableConfig } from '../config/types';
import type { Engine, Session } from '../engine/duckdb';
import { isRemotePath } from '../engine/s3';
import { StateError } from '../errors';
import { dateLiteral, quoteLiteral } from '../engine/sql';
import { type ExportOrder, missingColumns, publishCurrentSql, publishHistorySql, readOwnParquet, withNullColumnsSql } from '../engine/stage-sql';
import { linkOrCopy, readJsonIfExists, writeAtomically, writeJsonAtomically } from './atomic';
import { commitFileBucket, historyLakeFolder, type LakeTables, withCatalog } from './catalog';
import { type CommitRecord, readCommitLog } from './commits';
import type { TableLayout } from './layout';
import { concatParquet } from './parquet-concat';
import { publishSensitiveCurrentSql, publishSensitiveHistorySql, sensitiveLayout, sensitiveNames, withoutSensitiveSql } from './sensitive';

export interface PublishedManifest {
  /** Commit id of the state in current.parquet. */
  current: string | null;
  /** Commit id of each published history partition, by business date. */
  history: Record<string, string>;
  /** The sensitive columns split off when these were written (absent: none). */
  sensitive?: string[];
}

/** A named point of the commit and publish, for crash-point tests. */
export type StepHook = (step: string) => void | Promise<void>;

const ROUNDS = 5;

/** A round's reading of the catalog: the log, and the files each commit registered itself. */
interface CatalogView {
  log: readonly Pick<CommitRecord, 'businessDate' | 'commitId'>[];
  /** The commits' own files (write-once, named by commit id), by table part. */
  files: { current: readonly string[]; history: readonly string[] };
}

interface PublishOptions {
  table: Pick<TableConfig, 'keys' | 'columns' | 'warehouse' | 'dataset' | 'name'>;
  lake: LakeTables;
  layout: TableLayout;
  step?: StepHook;
}

/** What `_published.json` says is published; exports written with other sensitive columns split off count as none. */
async function readPublished(opts: PublishOptions): Promise<{ published: PublishedManifest; sameSplit: boolean }> {
  const manifest = (await readJsonIfExists<PublishedManifest>(opts.layout.publishManifest)) ?? { current: null, history: {} };
  const sameSplit = JSON.stringify(manifest.sensitive ?? []) === JSON.stringify(sensitiveNames(opts.table));
  return { sameSplit, published: sameSplit ? manifest : { current: null, history: Object.fromEntries(Object.keys(manifest.history).map((d) => [d, ''])) } };
}

/**
 * Brings the exports up to the catalog's latest commit. Another run may publish at the same
 * time: after writing, the log is read again and the round repeats until nothing changed, so
 * whichever publisher finishes last leaves the latest state. Only the reading takes the
 * catalog's connection: the commits' own files (each sorted, in bucket order) are copied as
 * read on Engine.withExportSession, so a big export neither sorts again nor holds up other
 * tables' catalog work. Returns the commit log it last read (the plan builds on it).
 */
export async function publishExports(engine: Engine, opts: PublishOptions): Promise<CommitRecord[]> {
  let log: CommitRecord[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const { published, sameSplit } = await readPublished(opts);
    const view = await withCatalog(engine, opts.table.warehouse, async (s) => {
      const read = await readCommitLog(s, opts.lake);
      return { log: read, files: upToDate(published, read) ? { current: [], history: [] } : await ownFiles(s, opts.lake) };
    });
    log = view.log;
    if (upToDate(published, log)) return log;
    await publishView(engine, opts, view, published, sameSplit);
  }
  return log;
}

/**
 * Publishes the commit just made from what it knows (its record and files), without reading
 * the catalog, when the exports are those of the head it replaced; otherwise by roll-forward.
 * Another commit may have followed it: the caller compares the table's head afterwards.
 */
export async function publishCommit(
  engine: Engine,
  opts: PublishOptions & { commit: Pick<CommitRecord, 'businessDate' | 'commitId'>; replacedHead: string | null; files: CatalogView['files'] },
): Promise<void> {
  const { published, sameSplit } = await readPublished(opts);
  if (!sameSplit || published.current !== opts.replacedHead) {
    await publishExports(engine, opts);
    return;
  }
  // The exports hold the log up to the replaced head: dates before this one are final.
  const before = Object.keys(published.history)
    .filter((d) => d < opts.commit.businessDate)
    .sort()
    .map((businessDate) => ({ businessDate, commitId: published.history[businessDate] }));
  await publishView(engine, opts, { log: [...before, opts.commit], files: opts.files }, published, sameSplit);
}

/**
 * True when the exports are those of the table's latest commit (`head`; null: none). Only the
 * latest date is ever committed again, so exports written at the head hold every date of its log.
 */
export async function exportsAtHead(opts: PublishOptions, head: Pick<CommitRecord, 'businessDate' | 'commitId'> | null): Promise<boolean> {
  const { published, sameSplit } = await readPublished(opts);
  const dates = Object.keys(published.history);
  return sameSplit && published.current === (head?.commitId ?? null) && (head ? published.history[head.businessDate] === head.commitId : dates.length === 0);
}

/** Writes every export that differs from `view`, then the manifest. */
async function publishView(engine: Engine, opts: PublishOptions, view: CatalogView, published: PublishedManifest, sameSplit: boolean): Promise<void> {
  const { layout, lake, table, log } = { ...opts, log: view.log };
  const sensitive = sensitiveLayout(table.warehouse, table.dataset, table.name);
  const split = sensitiveNames(table);
  refuseRemovingUncommittedDates(opts, log, published);
  if (!sameSplit) await rm(sensitive.root, { recursive: true, force: true });

  // A commit's own files are read directly (a history file holds its date alone); what the catalog wrote itself, through the catalog.
  // A commit made before the config appended columns has them as NULL in its exports, as in the catalog.
  const exportFrom = async (own: readonly string[], part: 'current' | 'history', commit: CatalogView['log'][number], sql: (relation: string, order: ExportOrder) => string) => {
    const inCatalog = part === 'current' ? lake.current : `(SELECT * FROM ${lake.history} WHERE EFF_START_DATE = ${dateLiteral(commit.businessDate)})`;
    const complete = async (s: Session, relation: string) => {
      const missing = await missingColumns(s, table, relation);
      return missing.length ? withNullColumnsSql(relation, missing) : relation;
    };
    if (own.length) await engine.withExportSession(async (s, keepsOrder) => s.run(sql(await complete(s, readOwnParquet(own)), keepsOrder ? 'as-read' : 'sort')));
    else await withCatalog(engine, table.warehouse, async (s) => s.run(sql(await complete(s, inCatalog), 'sort')));
  };
  // A commit's local files are the export as they are, unless columns are split off (history files: in their date's folder,
  // without the date): one is linked, several are joined by their bytes; otherwise `copy` writes it through DuckDB.
  const fromOwnFiles = async (own: readonly string[], tmp: string, copy: () => Promise<void>, folder?: string) => {
    const asTheyAre = !split.length && own.length > 0 && own.every((f) => !isRemotePath(f) && (folder === undefined || path.basename(path.dirname(f)) === folder));
    if (!asTheyAre) await copy();
    else if (own.length === 1) await linkOrCopy(own[0], tmp);
    else if (!(await concatParquet(own, tmp))) await copy();
  };
  const next: PublishedManifest = { current: published.current, history: {}, ...(split.length ? { sensitive: split } : {}) };
  for (const commit of log) {
    const date = commit.businessDate;
    if (published.history[date] !== commit.commitId) {
      await opts.step?.(`publish:history:${date}`);
      const own = filesOfCommit(view.files.history, commit.commitId);
      await writeAtomically(
        layout.history(date),
        (tmp) => fromOwnFiles(own, tmp, () => exportFrom(own, 'history', commit, (h, order) => publishHistorySql(table, h, tmp, order)), historyLakeFolder(date)),
        layout.publishTmp,
      );
      if (split.length) {
        await writeAtomically(sensitive.history(date), (tmp) => exportFrom(own, 'history', commit, (h, order) => publishSensitiveHistorySql(table, h, tmp, order)), layout.publishTmp);
      }
    }
    next.history[date] = commit.commitId;
  }
  for (const date of Object.keys(published.history).filter((d) => !next.history[d])) {
    await rm(path.dirname(layout.history(date)), { recursive: true, force: true });
    await rm(path.dirname(sensitive.history(date)), { recursive: true, force: true });
  }
  const latest = log.at(-1);
  if (latest && published.current !== latest.commitId) {
    await opts.step?.('publish:current');
    const own = filesOfCommit(view.files.current, latest.commitId);
    await writeAtomically(
      layout.current,
      (tmp) => fromOwnFiles(own, tmp, () => exportFrom(own, 'current', latest, (c, order) => publishCurrentSql(c, tmp, withoutSensitiveSql(table), order))),
      layout.publishTmp,
    );
    if (split.length) {
      await writeAtomically(sensitive.current, (tmp) => exportFrom(own, 'current', latest, (c, order) => publishSensitiveCurrentSql(table, c, tmp, order)), layout.publishTmp);
    }
    next.current = latest.commitId;
  }
  await opts.step?.('publish:manifest');
  await writeJsonAtomically(layout.publishManifest, next, layout.publishTmp);
}

/**
 * A committed date never leaves the commit log, so published history dates the log lacks were published from another
 * catalog: a newer one, when catalog.sqlite and _lake/ were restored from an earlier copy without the exports, or the
 * catalog was lost. Rolling forward would delete them for good (and take current.parquet back): refused instead, until
 * their folders are moved out or the catalog they came from is put back. A folder already gone is simply forgotten.
 */
function refuseRemovingUncommittedDates(opts: PublishOptions, log: CatalogView['log'], published: PublishedManifest): void {
  const committed = new Set(log.map((c) => c.businessDate));
  const { dataset, name, warehouse } = opts.table;
  const sensitive = sensitiveLayout(warehouse, dataset, name);
  const folders = (date: string) => [opts.layout.history(date), sensitive.history(date)].map((f) => path.dirname(f)).filter((f) => existsSync(f));
  const unknown = Object.keys(published.history)
    .filter((d) => !committed.has(d) && folders(d).length > 0)
    .sort();
  if (unknown.length === 0) return;
  const latest = log.at(-1)?.businessDate;
  const first = folders(unknown[0])[0];
  const roots = [...new Set(unknown.flatMap(folders).map((f) => path.dirname(f)))].join(' and ');
  throw new StateError(
    `the published history of ${dataset}.${name} holds ${namedDates(unknown)} (${first}), which the catalog has no commit of ` +
      `(${latest ? `its latest committed date is ${latest}` : 'it holds no commit of the table'}): the exports were published from a newer catalog, ` +
      'as after restoring catalog.sqlite and _lake/ from an earlier copy without the exports, or losing the catalog. Nothing was deleted or published. ' +
      `To go on from the catalog as it is, move those date folders out of ${roots} (to keep them elsewhere) and run again; ` +
      'otherwise put back the catalog and _lake/ the exports were published from',
    { dataset, table: name, file: first, ...(latest ? { latestCommitted: latest } : {}) },
  );
}

/** The data files of the table's current state and history that commits wrote themselves (see lakeDataFile). */
async function ownFiles(session: Session, lake: LakeTables): Promise<CatalogView['files']> {
  const { catalog, schema, current, history } = lake.names;
  const list = async (name: string) =>
    (
      await session.rows<{ data_file: string }>(
        `SELECT data_file FROM ducklake_list_files(${quoteLiteral(catalog)}, ${quoteLiteral(name)}, schema => ${quoteLiteral(schema)})`,
      )
    ).map((f) => f.data_file);
  return { current: await list(current), history: await list(history) };
}

/** A commit's own files among `files` (see commitFileBucket), in bucket order. */
export function filesOfCommit(files: readonly string[], commitId: string): string[] {
  const bucketOf = (f: string) => commitFileBucket(path.basename(f), commitId);
  return files.filter((f) => bucketOf(f) !== undefined).sort((a, b) => bucketOf(a)! - bucketOf(b)!);
}

function upToDate(published: PublishedManifest, log: CatalogView['log']): boolean {
  const dates = Object.keys(published.history);
  return (
    published.current === (log.at(-1)?.commitId ?? null) &&
    dates.length === log.length &&
    log.every((c) => published.history[c.businessDate] === c.commitId)
  );
}

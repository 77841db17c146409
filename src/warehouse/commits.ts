/**
 * The commit log of a table, kept in the DuckLake catalog with the data it describes, and the
 * snapshot each commit made (found through the commit's `extra_info`, written in the same
 * transaction).
 */
import type { Engine, Session } from '../engine/duckdb';
import { quoteLiteral } from '../engine/sql';
import { type LakeTables, withSharedCatalog } from './catalog';

export interface OperationCounts {
  I: number;
  U: number;
  D: number;
  X: number;
  N: number;
}

export interface CommitRecord {
  businessDate: string;
  /** Unique per commit; names the DuckLake snapshot that holds it. */
  commitId: string;
  /** The committed date this run was diffed against (null for the first run). */
  baseDate: string | null;
  /** Fingerprint of everything the outputs depend on; equal fingerprint, equal outputs. */
  fingerprint: string;
  /** What the stored hashes mean (keys, columns, types, ignore list, encoding version). */
  shape: string;
  counts: OperationCounts;
  currentRows: number;
  historyRows: number;
  /** The source's watermark as of the run (a delta by watermark reads above it next); null without one. */
  watermark: string | null;
  /**
   * The column the watermark is a value of (null without one, and in commits of older versions).
   * Kept in the commit's snapshot tag only: a new column of the log would break the INSERT into the
   * logs of existing warehouses, which their next commit does not alter.
   */
  watermarkColumn: string | null;
}

/**
 * What a commit's snapshot carries in `commit_extra_info`, so that retention, and the plan of
 * the next run (its head and base commits), read the snapshots alone, not every commit log.
 */
export interface CommitTag {
  cdcflow: 1;
  dataset: string;
  table: string;
  date: string;
  commit: string;
  /** How many committed dates of the table keep their snapshots. */
  keep: number;
  /** The commit record's fields the plan needs; absent in the tags of older versions. */
  baseDate?: string | null;
  fingerprint?: string;
  shape?: string;
  watermark?: string | null;
  watermarkColumn?: string | null;
  /** The files of the state it committed (and of a change-record table's ordering state), as the catalog lists them. */
  files?: StateFiles;
}

/** A committed state's files, sorted as `ducklake_list_files` lists them (by path). */
export interface StateFiles {
  current: readonly string[];
  order?: readonly string[];
}

export function commitTag(table: { dataset: string; name: string; retention: { keepDates: number } }, c: CommitRecord, files: StateFiles): CommitTag {
  return {
    cdcflow: 1,
    dataset: table.dataset,
    table: table.name,
    date: c.businessDate,
    commit: c.commitId,
    keep: table.retention.keepDates,
    baseDate: c.baseDate,
    fingerprint: c.fingerprint,
    shape: c.shape,
    watermark: c.watermark,
    watermarkColumn: c.watermarkColumn,
    files: { current: [...files.current].sort(), ...(files.order ? { order: [...files.order].sort() } : {}) },
  };
}

export const COMMIT_LOG_COLUMNS =
  'business_date DATE, commit_id VARCHAR, base_date DATE, fingerprint VARCHAR, shape VARCHAR, ' +
  'inserts BIGINT, updates BIGINT, deletes BIGINT, not_supplied BIGINT, unchanged BIGINT, current_rows BIGINT, history_rows BIGINT, watermark VARCHAR';

export function commitLogRowSql(c: CommitRecord): string {
  const n = (v: number) => String(Math.trunc(v));
  return (
    `(DATE ${quoteLiteral(c.businessDate)}, ${quoteLiteral(c.commitId)}, ${c.baseDate ? `DATE ${quoteLiteral(c.baseDate)}` : 'NULL'}, ` +
    `${quoteLiteral(c.fingerprint)}, ${quoteLiteral(c.shape)}, ${[c.counts.I, c.counts.U, c.counts.D, c.counts.X, c.counts.N, c.currentRows, c.historyRows].map(n).join(', ')}, ` +
    `${c.watermark === null ? 'NULL' : quoteLiteral(c.watermark)})`
  );
}

interface CommitLogRow {
  business_date: string;
  commit_id: string;
  base_date: string | null;
  fingerprint: string;
  shape: string;
  inserts: string;
  updates: string;
  deletes: string;
  not_supplied: string;
  unchanged: string;
  current_rows: string;
  history_rows: string;
  watermark: string | null;
}

/** True when the error says a catalog object does not exist (the table has no commit yet). */
function isMissingTable(err: unknown): boolean {
  return /Catalog Error: (Table|Schema) with name .* does not exist/.test((err as Error).message ?? '');
}

/** Committed dates of the table, oldest first ([] before its first commit). */
export async function readCommitLog(session: Session, t: LakeTables): Promise<CommitRecord[]> {
  let rows: CommitLogRow[];
  try {
    rows = await session.rows<CommitLogRow>(`SELECT * FROM ${t.commits} ORDER BY business_date`);
  } catch (err) {
    if (isMissingTable(err)) return [];
    throw err;
  }
  return rows.map((r) => ({
    businessDate: r.business_date,
    commitId: r.commit_id,
    baseDate: r.base_date,
    fingerprint: r.fingerprint,
    shape: r.shape,
    counts: { I: Number(r.inserts), U: Number(r.updates), D: Number(r.deletes), X: Number(r.not_supplied), N: Number(r.unchanged) },
    currentRows: Number(r.current_rows),
    historyRows: Number(r.history_rows),
    watermark: r.watermark ?? null,
    // Not in the log (see CommitRecord): unknown, so a delta keeps the watermark as before.
    watermarkColumn: null,
  }));
}

export interface TaggedSnapshot {
  snapshot: number;
  tag: CommitTag;
}

/** Every snapshot of the catalog that a cdcflow commit made, oldest first (`metadata`: see withCatalog). */
export async function commitSnapshots(session: Session, metadata: string): Promise<TaggedSnapshot[]> {
  return (await catalogSnapshots(session, metadata)).tagged;
}

/** The warehouse's commit snapshots, in one read shared by the runs of the process that ask at the same time. */
export function sharedCommitSnapshots(engine: Engine, warehouse: string): Promise<TaggedSnapshot[]> {
  return withSharedCatalog(engine, warehouse, 'snapshots', (session, _alias, metadata) => commitSnapshots(session, metadata));
}

/** What the plan needs of a commit; its snapshot's tag carries it (the files, since this version). */
export type PlannedCommit = Pick<CommitRecord, 'businessDate' | 'commitId' | 'baseDate' | 'fingerprint' | 'shape' | 'watermark' | 'watermarkColumn'> & { files?: StateFiles };

/** The commit a tag describes; undefined for a tag of an older version, which lacks the record. */
function taggedCommit(tag: CommitTag): PlannedCommit | undefined {
  if (tag.fingerprint === undefined || tag.shape === undefined || tag.baseDate === undefined) return undefined;
  const { files } = tag;
  return { businessDate: tag.date, commitId: tag.commit, baseDate: tag.baseDate, fingerprint: tag.fingerprint, shape: tag.shape, watermark: tag.watermark ?? null, watermarkColumn: tag.watermarkColumn ?? null, ...(files ? { files } : {}) };
}

export interface HeadAndBase {
  latest: PlannedCommit;
  /** null: the run has no base (the table's first date); `expired`: the base's date, whose snapshot retention expired. */
  base: { commit: PlannedCommit; snapshot: number } | null | { expired: string };
}

/**
 * The table's latest commit and the one a run of `businessDate` builds on, from the tags of the
 * table's commit snapshots (tableSnapshots): a newer date builds on the latest commit, the
 * latest date again on the commit the latest was built on. Undefined when the tags cannot tell
 * (no commit yet, or tags of an older version): the commit log can.
 */
export function headAndBase(snapshots: readonly TaggedSnapshot[], businessDate: string): HeadAndBase | undefined {
  const head = snapshots.at(-1);
  const latest = head && taggedCommit(head.tag);
  if (!latest) return undefined;
  const baseDate = businessDate > latest.businessDate ? latest.businessDate : latest.baseDate;
  if (baseDate === null) return { latest, base: null };
  // Retention keeps the newest snapshot of a date: the commit the log holds for it.
  const base = snapshots.filter((s) => s.tag.date === baseDate).at(-1);
  if (!base) return { latest, base: { expired: baseDate } };
  const commit = taggedCommit(base.tag);
  return commit && { latest, base: { commit, snapshot: base.snapshot } };
}

/**
 * The snapshots of one table's commits among `tagged`, oldest first: the last one is its latest commit.
 * Names match in any case, as the catalog's schemas and tables do: `Orders` and `orders` are one catalog table.
 */
export function tableSnapshots(tagged: readonly TaggedSnapshot[], dataset: string, table: string): TaggedSnapshot[] {
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  return tagged.filter(({ tag }) => same(tag.dataset, dataset) && same(tag.table, table));
}

/** Every snapshot of the catalog, oldest first, and those of cdcflow's commits with their tags. */
export async function catalogSnapshots(session: Session, metadata: string): Promise<{ all: number[]; tagged: TaggedSnapshot[] }> {
  const rows = await session.rows<{ snapshot_id: string; info: string | null }>(
    `SELECT s.snapshot_id, c.commit_extra_info AS info FROM ${metadata}.ducklake_snapshot s ` +
      `LEFT JOIN ${metadata}.ducklake_snapshot_changes c ON c.snapshot_id = s.snapshot_id ORDER BY s.snapshot_id`,
  );
  // One table's tag, or several tables' committed in one transaction (commitMessageSql).
  const tagged = rows
    .filter((r) => r.info?.startsWith('{"cdcflow":1,'))
    .flatMap((r) => {
      const info = JSON.parse(r.info!) as CommitTag | { commits: CommitTag[] };
      return ('commits' in info ? info.commits : [info]).map((tag) => ({ snapshot: Number(r.snapshot_id), tag }));
    });
  return { all: rows.map((r) => Number(r.snapshot_id)), tagged };
}

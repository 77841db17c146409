/**
 * The commit log of a table, kept in the DuckLake catalog with the data it describes, and the
 * snapshot each commit made (found through the commit's `extra_info`, written in the same
 * transaction).
 */
import type { Session } from '../engine/duckdb';
import { quoteLiteral } from '../engine/sql';
import type { LakeTables } from './catalog';

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
}

/** What a commit's snapshot carries in `commit_extra_info`, so retention can read it alone. */
export interface CommitTag {
  cdcflow: 1;
  dataset: string;
  table: string;
  date: string;
  commit: string;
  /** How many committed dates of the table keep their snapshots. */
  keep: number;
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
  }));
}

export interface TaggedSnapshot {
  snapshot: number;
  tag: CommitTag;
}

/** Every snapshot of the catalog that a cdcflow commit made, oldest first. */
export async function commitSnapshots(session: Session, alias: string): Promise<TaggedSnapshot[]> {
  return (await catalogSnapshots(session, alias)).tagged;
}

/** Every snapshot of the catalog, oldest first, and those of cdcflow's commits with their tags. */
export async function catalogSnapshots(session: Session, alias: string): Promise<{ all: number[]; tagged: TaggedSnapshot[] }> {
  const rows = await session.rows<{ snapshot_id: string; info: string | null }>(
    `SELECT snapshot_id, commit_extra_info AS info FROM ducklake_snapshots(${quoteLiteral(alias)}) ORDER BY snapshot_id`,
  );
  const tagged = rows.filter((r) => r.info?.startsWith('{"cdcflow":1,'));
  return { all: rows.map((r) => Number(r.snapshot_id)), tagged: tagged.map((r) => ({ snapshot: Number(r.snapshot_id), tag: JSON.parse(r.info!) as CommitTag })) };
}

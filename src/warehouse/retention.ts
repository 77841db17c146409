/**
 * Storage stays bounded: after a commit, the catalog's snapshots that no table still needs are
 * expired and the files only they referenced are deleted, with DuckLake's own functions. A
 * table needs the snapshots of its newest `keep` committed dates (default 2: the latest date
 * and its base, which re-running the latest date diffs against); the catalog's latest
 * snapshot is always kept. Every commit's snapshot carries its table and `keep` (CommitTag).
 * The catalog's file list stays bounded too: see mergeSmallFiles.
 */
import { rmdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Session } from '../engine/duckdb';
import { isRemotePath } from '../engine/s3';
import { quoteLiteral } from '../engine/sql';
import { isHistoryLakeFolder } from './catalog';
import { catalogSnapshots, type TaggedSnapshot } from './commits';

/** The snapshots to expire, given every commit snapshot (oldest first) and the catalog's latest. */
export function snapshotsToExpire(commits: readonly TaggedSnapshot[], allSnapshots: readonly number[]): number[] {
  const newestPerDate = new Map<string, Map<string, number>>();
  for (const { snapshot, tag } of commits) {
    const table = `${tag.dataset}\u0000${tag.table}`;
    const dates = newestPerDate.get(table) ?? new Map<string, number>();
    dates.set(tag.date, Math.max(snapshot, dates.get(tag.date) ?? -1));
    newestPerDate.set(table, dates);
  }
  const keepOf = new Map(commits.map(({ tag }) => [`${tag.dataset}\u0000${tag.table}`, tag.keep]));
  const needed = new Set<number>([Math.max(...allSnapshots)]);
  for (const [table, dates] of newestPerDate) {
    const newestDates = [...dates.keys()].sort().slice(-(keepOf.get(table) ?? 2));
    for (const date of newestDates) needed.add(dates.get(date)!);
  }
  return allSnapshots.filter((s) => !needed.has(s));
}

/**
 * Merges the small files of the catalog tables that gain one with every commit: a date's history,
 * a commit-log row, a date's change counts. Every metadata query of DuckLake's reads the SQLite
 * catalog's file list whole (DuckDB's SQLite reader filters after reading), so each commit of
 * every table got slower as dates accumulated (one table's commit 39 ms in a new catalog, 76 ms
 * beside 20,000 files of other tables). Merged once a table holds MERGE_AT of them, with
 * DuckLake's own merge, which keeps every snapshot's rows; files of SMALL_FILE_BYTES or more
 * (a big table's history) are left as they are. State tables are never merged: a run reads a
 * commit's state files by name. Returns whether anything was merged.
 */
export async function mergeSmallFiles(session: Session, alias: string, metadata: string): Promise<boolean> {
  const live = (t: string) => `${t}.end_snapshot IS NULL`;
  const growing = GROWING_TABLES.map((suffix) => `ends_with(t.table_name, ${quoteLiteral(suffix)})`).join(' OR ');
  const tables = await session.rows<{ schema_name: string; table_name: string }>(
    `SELECT s.schema_name, t.table_name FROM ${metadata}.ducklake_data_file f ` +
      `JOIN ${metadata}.ducklake_table t ON t.table_id = f.table_id AND ${live('t')} ` +
      `JOIN ${metadata}.ducklake_schema s ON s.schema_id = t.schema_id AND ${live('s')} ` +
      `WHERE ${live('f')} AND f.file_size_bytes < ${SMALL_FILE_BYTES} AND (${growing}) ` +
      `GROUP BY ALL HAVING count(*) >= ${MERGE_AT} ORDER BY count(*) DESC, s.schema_name, t.table_name LIMIT ${MERGES_PER_PASS}`,
  );
  for (const t of tables) {
    await session.run(
      `CALL ducklake_merge_adjacent_files(${quoteLiteral(alias)}, ${quoteLiteral(t.table_name)}, schema => ${quoteLiteral(t.schema_name)}, max_file_size => ${SMALL_FILE_BYTES})`,
    );
  }
  return tables.length > 0;
}

/** The catalog tables that gain a file with every commit (see catalog.ts and changes/commit-changes.ts). */
const GROWING_TABLES = ['__history', '__commits', '__change_counts'];
/** How many small files a growing table holds before they are merged. */
export const MERGE_AT = 32;
/** Merges in one pass at most (each about 50 ms of the catalog's time), so that the tables of a big dataset, which reach MERGE_AT together, spread theirs over several runs. */
const MERGES_PER_PASS = 8;
/** Files this big or bigger are not merged: rewriting them would cost more than their catalog rows. */
const SMALL_FILE_BYTES = 8 * 2 ** 20;

/** Merges small files, expires what no table needs, and deletes the files only the expired snapshots or the merged ones referenced. */
export async function applyRetention(session: Session, alias: string, metadata: string): Promise<void> {
  const merged = await mergeSmallFiles(session, alias, metadata);
  const { all, tagged } = await catalogSnapshots(session, metadata);
  const expire = snapshotsToExpire(tagged, all);
  if (expire.length > 0) await session.run(`CALL ducklake_expire_snapshots(${quoteLiteral(alias)}, versions => [${expire.join(', ')}])`);
  if (expire.length === 0 && !merged) return;
  const removed = await session.rows<{ path: string }>(`CALL ducklake_cleanup_old_files(${quoteLiteral(alias)}, cleanup_all => true)`);
  await removeEmptyDateFolders(removed.map((r) => r.path));
}

/**
 * The history date folders of removed files that are now empty (a new date whose commit never
 * happened, a date's history merged into another file). Removing the file made the folder's time new, so only emptiness decides.
 */
export async function removeEmptyDateFolders(removed: readonly string[]): Promise<void> {
  const folders = new Set(removed.filter((f) => !isRemotePath(f)).map((f) => path.dirname(f)));
  for (const folder of [...folders].filter((f) => isHistoryLakeFolder(path.basename(f)))) {
    try {
      await rmdir(folder);
    } catch (err) {
      // Gone already, or a file of another run is in it.
      if (!['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
}


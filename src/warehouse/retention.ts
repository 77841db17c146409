/**
 * Storage stays bounded: after a commit, the catalog's snapshots that no table still needs are
 * expired and the files only they referenced are deleted, with DuckLake's own functions. A
 * table needs the snapshots of its newest `keep` committed dates (default 2: the latest date
 * and its base, which re-running the latest date diffs against); the catalog's latest
 * snapshot is always kept. Every commit's snapshot carries its table and `keep` (CommitTag).
 */
import type { Session } from '../engine/duckdb';
import { quoteLiteral } from '../engine/sql';
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

/** Expires what no table needs, and deletes the files only the expired snapshots referenced. */
export async function applyRetention(session: Session, alias: string, metadata: string): Promise<void> {
  const { all, tagged } = await catalogSnapshots(session, metadata);
  const expire = snapshotsToExpire(tagged, all);
  if (expire.length === 0) return;
  await session.run(`CALL ducklake_expire_snapshots(${quoteLiteral(alias)}, versions => [${expire.join(', ')}])`);
  await session.run(`CALL ducklake_cleanup_old_files(${quoteLiteral(alias)}, cleanup_all => true)`);
}

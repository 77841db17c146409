/**
 * Removes what abandoned runs left behind, outside anything a reader or the catalog uses: data
 * files in `_lake/` that no catalog snapshot references (written by a transaction that never
 * committed; DuckLake's own orphan cleanup), the history date folders that leaves empty, and
 * stage and temporary files under `_work/`. Only what is older than `olderThanHours` goes, so
 * runs in progress keep their files; a run's stage folder goes whole, once all of it is that old.
 */
import type { Stats } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Engine } from '../engine/duckdb';
import { quoteLiteral } from '../engine/sql';
import { ConfigError } from '../errors';
import { withCatalog } from './catalog';
import { commitSnapshots } from './commits';
import { removeEmptyDateFolders } from './retention';
import { ifExists } from './atomic';
import { isWorkDirName } from './layout';

export interface VacuumResult {
  lakeFiles: string[];
  workEntries: string[];
}

export async function vacuumWarehouse(engine: Engine, warehouse: string, olderThanHours: number): Promise<VacuumResult> {
  const cutoff = Date.now() - olderThanHours * 3_600_000;
  const lakeFiles = await withCatalog(engine, warehouse, async (session, alias, metadata) => {
    if ((await commitSnapshots(session, metadata)).length === 0) {
      throw noCommits(warehouse, engine.catalogUrl ? 'the PostgreSQL catalog (CDCFLOW_CATALOG_URL) holds no commit of it' : 'its SQLite catalog holds no commit');
    }
    const rows = await session.rows<{ path: string }>(
      `CALL ducklake_delete_orphaned_files(${quoteLiteral(alias)}, older_than => to_timestamp(${Math.floor(cutoff / 1000)}))`,
    );
    return rows.map((r) => r.path);
  }, { existing: true });
  await removeEmptyDateFolders(lakeFiles);
  return { lakeFiles, workEntries: await removeStale(path.join(warehouse, '_work'), cutoff) };
}

/**
 * Every data file is an orphan of a catalog without commits: one that is not the warehouse's
 * (another CDCFLOW_CATALOG_URL than the workers', say) would delete them all.
 */
function noCommits(warehouse: string, why: string): ConfigError {
  return new ConfigError(
    `vacuum of ${warehouse} refused: ${why}, so every committed data file would be taken for an orphan. Run it with the ` +
      "catalog setting (CDCFLOW_CATALOG_URL) of the warehouse's workers; a warehouse none of whose runs committed yet has nothing to vacuum",
    { warehouse },
  );
}

/**
 * Deletes what is older than the cutoff below `dir`, then the folders left empty; returns the
 * files. A run's stage folder (`business_date=<D>/`) goes as a whole or not at all: its chunks,
 * stage files and manifests are only meaningful together, and a run in progress (or one that a
 * retry will resume) keeps its oldest chunks too, while anything in the folder is recent.
 */
async function removeStale(dir: string, cutoff: number): Promise<string[]> {
  const entries = await ifExists(() => readdir(dir, { recursive: true }));
  if (!entries) return [];
  const infos = new Map<string, Stats>();
  // The newest time of each stage folder, its own and that of everything in it.
  const newest = new Map<string, number>();
  const unitOf = (entry: string) => {
    const parts = entry.split(path.sep);
    const at = parts.findIndex(isWorkDirName);
    return at < 0 ? undefined : parts.slice(0, at + 1).join(path.sep);
  };
  for (const entry of entries) {
    // Gone meanwhile: a run in progress renamed or removed it.
    const info = await ifExists(() => stat(path.join(dir, entry)));
    if (!info) continue;
    infos.set(entry, info);
    const unit = unitOf(entry);
    if (unit !== undefined) newest.set(unit, Math.max(newest.get(unit) ?? 0, info.mtimeMs));
  }
  const stale = (entry: string, info: Stats) => {
    const unit = unitOf(entry);
    return (unit === undefined ? info.mtimeMs : newest.get(unit)!) < cutoff;
  };
  const removed: string[] = [];
  // Deepest first, so a folder is looked at after what it held.
  for (const [entry, info] of [...infos].sort(([a], [b]) => b.length - a.length)) {
    const full = path.join(dir, entry);
    if (info.isDirectory()) {
      const inRecentUnit = unitOf(entry) !== undefined && !stale(entry, info);
      if (!inRecentUnit && (await readdir(full)).length === 0) await rm(full, { recursive: true });
    } else if (stale(entry, info)) {
      await rm(full);
      removed.push(full);
    }
  }
  return removed;
}


/**
 * Removes what abandoned runs left behind, outside anything a reader or the catalog uses: data
 * files in `_lake/` that no catalog snapshot references (written by a transaction that never
 * committed; DuckLake's own orphan cleanup), the history date folders that leaves empty, and
 * stage and temporary files under `_work/`. Only what is older than `olderThanHours` goes, so
 * runs in progress keep their files.
 */
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Engine } from '../engine/duckdb';
import { quoteLiteral } from '../engine/sql';
import { isRemotePath } from '../engine/s3';
import { isHistoryLakeFolder, withCatalog } from './catalog';

export interface VacuumResult {
  lakeFiles: string[];
  workEntries: string[];
}

export async function vacuumWarehouse(engine: Engine, warehouse: string, olderThanHours: number): Promise<VacuumResult> {
  const cutoff = Date.now() - olderThanHours * 3_600_000;
  const lakeFiles = await withCatalog(engine, warehouse, async (session, alias) => {
    const rows = await session.rows<{ path: string }>(
      `CALL ducklake_delete_orphaned_files(${quoteLiteral(alias)}, older_than => to_timestamp(${Math.floor(cutoff / 1000)}))`,
    );
    return rows.map((r) => r.path);
  });
  await removeEmptyDateFolders(lakeFiles);
  return { lakeFiles, workEntries: await removeStale(path.join(warehouse, '_work'), cutoff) };
}

/**
 * The history date folders of removed files that are now empty (a new date whose commit never
 * happened). Removing the file made the folder's time new, so only emptiness decides.
 */
async function removeEmptyDateFolders(removed: readonly string[]): Promise<void> {
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

/** Deletes files older than the cutoff below `dir`, then the folders left empty; returns the files. */
async function removeStale(dir: string, cutoff: number): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  // Deepest first, so a folder is looked at after what it held.
  for (const entry of entries.sort((a, b) => b.length - a.length)) {
    const full = path.join(dir, entry);
    const info = await stat(full);
    if (info.isDirectory()) {
      if ((await readdir(full)).length === 0) await rm(full, { recursive: true });
    } else if (info.mtimeMs < cutoff) {
      await rm(full);
      removed.push(full);
    }
  }
  return removed;
}

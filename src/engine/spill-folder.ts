/**
 * Each engine's own spill folder inside the configured one (CDCFLOW_DUCKDB_TEMP_DIR). DuckDB
 * names its spill files alike in every process (duckdb_temp_storage_*.tmp): two worker
 * processes started from one folder, spilling into the same `.cdcflow/duckdb-tmp`, wrote into
 * each other's files and both died with a segmentation fault. The folder is named after the
 * host and process, removed when the engine closes; those of processes that died without
 * closing are removed by the next engine on the same host.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';

let made = 0;

const host = () => hostname().replace(/[^A-Za-z0-9.-]/g, '_');

/** The spill folder's name of engine `n` of process `pid` on this host: `<host>-<pid>-<n>`. */
export const spillFolderName = (pid: number, n: number) => `${host()}-${pid}-${n}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The configured spill folder (CDCFLOW_DUCKDB_TEMP_DIR), by default `.cdcflow/duckdb-tmp` in the folder the worker started from. */
export function spillFolderSetting(env: NodeJS.ProcessEnv): string {
  return env.CDCFLOW_DUCKDB_TEMP_DIR || path.join(process.cwd(), '.cdcflow', 'duckdb-tmp');
}

/** Removes the folders that dead processes of this host left in `base`. */
function removeStale(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  const prefix = `${host()}-`;
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)-\d+$/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid && !alive(Number(pid))) rmSync(path.join(base, name), { recursive: true, force: true });
  }
}

/** A new spill folder of this engine in `base` (spillFolderName). */
export function ownSpillFolder(base: string): string {
  removeStale(base);
  made += 1;
  const folder = path.join(base, spillFolderName(process.pid, made));
  // Left by an earlier process with this pid (a container's worker is often pid 1 every time).
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  return folder;
}

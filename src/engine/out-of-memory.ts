/**
 * DuckDB's "Out of Memory Error" as cdcflow reports it: once, naming the setting to change.
 * DuckDB spills what it can (sorts, joins, aggregates) to its temp folder; what still fails
 * fails again on every retry under the same limit.
 */
import { ResourceError } from '../errors';
import { spillFolderSetting } from './spill-folder';

const OUT_OF_MEMORY = /Out of Memory Error/i;

/** DuckDB's word for a spill that found no room: `failed to offload data block of size 256.0 KiB (26.6 MiB/26.8 MiB used)`. */
const SPILL_FULL = /failed to offload data block of size [^(]*\(([^/]+)\/([^)]+) used\)/;

/**
 * The spill folder full (its drive's free space, DuckDB's max_temp_directory_size, taken as the
 * worker starts): a memory error to DuckDB, but memory is not what to change first.
 */
function spillFolderFull(err: unknown, message: string, stage: string, env: NodeJS.ProcessEnv): ResourceError | undefined {
  const [, used, room] = SPILL_FULL.exec(message) ?? [];
  if (!used) return undefined;
  const folder = spillFolderSetting(env);
  return new ResourceError(
    `the ${stage} stage filled the spill folder: DuckDB had spilled ${used} into ${folder} (CDCFLOW_DUCKDB_TEMP_DIR), all the room it had there (${room}), ` +
      `and needed more. Free space on that drive, or set CDCFLOW_DUCKDB_TEMP_DIR to a folder on a bigger one, then restart the worker (it takes the room as it starts); ` +
      `a higher CDCFLOW_DUCKDB_MEMORY_LIMIT, or fewer tables or buckets at once on this worker, spills less. DuckDB said: ${message.split('\n')[0]}`,
    { stage, folder },
    { cause: err },
  );
}

export function classifyOutOfMemory(err: unknown, stage: string, env: NodeJS.ProcessEnv = process.env): unknown {
  const message = (err as Error | undefined)?.message;
  if (typeof message !== 'string' || !OUT_OF_MEMORY.test(message)) return err;
  const full = spillFolderFull(err, message, stage, env);
  if (full) return full;
  const limit = env.CDCFLOW_DUCKDB_MEMORY_LIMIT ? `CDCFLOW_DUCKDB_MEMORY_LIMIT=${env.CDCFLOW_DUCKDB_MEMORY_LIMIT}` : "DuckDB's default (80% of RAM)";
  // A diff sorts its bucket's share of the table: DuckDB's sort needs memory for a share's rows.
  const smaller = stage === 'diff' ? ', split the table into more buckets (`buckets:` on the table; each sorts its own share)' : '';
  return new ResourceError(
    `the ${stage} stage ran out of memory under ${limit}: raise CDCFLOW_DUCKDB_MEMORY_LIMIT${smaller}, or run fewer tables or buckets at once on ` +
      `this worker (maxConcurrentTables, cdcflow worker --max-activities), and check that CDCFLOW_DUCKDB_TEMP_DIR has room to spill. DuckDB said: ${message}`,
    { stage },
    { cause: err },
  );
}

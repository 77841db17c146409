/**
 * DuckDB's "Out of Memory Error" as cdcflow reports it: once, naming the setting to change.
 * DuckDB spills what it can (sorts, joins, aggregates) to its temp folder; what still fails
 * fails again on every retry under the same limit.
 */
import { ResourceError } from '../errors';

const OUT_OF_MEMORY = /Out of Memory Error/i;

export function classifyOutOfMemory(err: unknown, stage: string, env: NodeJS.ProcessEnv = process.env): unknown {
  const message = (err as Error | undefined)?.message;
  if (typeof message !== 'string' || !OUT_OF_MEMORY.test(message)) return err;
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

/** The tests' PostgreSQL (test/support/postgres-server.ts): statements run through psql. */
import { execFileSync, spawn } from 'node:child_process';
import { sleep } from './worker-process';

/** Name of the environment variable holding the test cluster's connection string, as configs give it. */
export const PG_URL_VAR = 'CDCFLOW_TEST_PG_URL';

/** The test cluster's connection string with these session settings (libpq's `options`). */
export function withOptions(options: string): string {
  const url = process.env[PG_URL_VAR]!;
  return `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(options)}`;
}

/** Runs SQL in the test cluster (or the database of `url`) and returns psql's unaligned output. */
export function psql(sql: string, url = process.env[PG_URL_VAR]): string {
  if (!url) throw new Error(`${PG_URL_VAR} is not set (test/global-setup.ts starts the cluster)`);
  return execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-X', '-Atq', '-c', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
  }).trim();
}

/** Holds an ACCESS EXCLUSIVE lock on the table (every read of it waits) until `release`. */
export async function lockTable(qualified: string): Promise<{ release: () => Promise<void> }> {
  const child = spawn('psql', [process.env[PG_URL_VAR]!, '-X', '-q', '-c', `BEGIN; LOCK TABLE ${qualified} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT;`], {
    stdio: 'ignore',
    env: { ...process.env, PGAPPNAME: 'cdcflow-test-lock' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  while (psql(`SELECT count(*) FROM pg_locks WHERE relation = '${qualified}'::regclass AND mode = 'AccessExclusiveLock' AND granted`) !== '1') await sleep(20);
  return {
    async release() {
      // Killing psql alone would leave the server session (and its lock) sleeping.
      psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cdcflow-test-lock'`);
      await exited;
    },
  };
}

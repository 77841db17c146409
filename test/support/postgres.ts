/** The tests' PostgreSQL (test/support/postgres-server.ts): statements run through psql. */
import { execFileSync } from 'node:child_process';

/** Name of the environment variable holding the test cluster's connection string, as configs give it. */
export const PG_URL_VAR = 'CDCFLOW_TEST_PG_URL';

/** Runs SQL in the test cluster and returns psql's unaligned output. */
export function psql(sql: string): string {
  const url = process.env[PG_URL_VAR];
  if (!url) throw new Error(`${PG_URL_VAR} is not set (test/global-setup.ts starts the cluster)`);
  return execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-X', '-Atq', '-c', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
  }).trim();
}

/**
 * A throw-away PostgreSQL cluster for the integration tests, made by the project's own script
 * (scripts/start-postgres.sh: Debian's package, installed when missing) in a folder of this
 * jest run, on a free port, and removed by the global teardown. Its connection string is
 * exported as CDCFLOW_TEST_PG_URL. The folder is in the system's temporary folder: the server
 * runs as the `postgres` user, who may not reach a checkout under a private home.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const CLUSTERS_DIR = tmpdir();
const PREFIX = 'cdcflow-test-postgres-';

/** Runs one of the scripts (asynchronously: the Temporal server and the bundle start meanwhile); its stdout. */
export async function postgresScript(name: 'start-postgres.sh' | 'stop-postgres.sh', dir: string, port?: number): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('bash', [path.join(PROJECT_ROOT, 'scripts', name)], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDCFLOW_PG_DIR: dir, ...(port ? { CDCFLOW_PG_PORT: String(port) } : {}) },
    });
    return stdout;
  } catch (err) {
    const { stderr, message } = err as { stderr?: string; message: string };
    throw new Error(`scripts/${name} failed: ${stderr?.trim() || message}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopAndRemove(dir: string): Promise<void> {
  try {
    await postgresScript('stop-postgres.sh', dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Clusters of earlier jest runs that died without their teardown (named after the jest pid). */
async function removeOrphans(): Promise<void> {
  if (!existsSync(CLUSTERS_DIR)) return;
  for (const name of readdirSync(CLUSTERS_DIR)) {
    const pid = Number(name.slice(PREFIX.length));
    if (name.startsWith(PREFIX) && Number.isInteger(pid) && !alive(pid)) await stopAndRemove(path.join(CLUSTERS_DIR, name));
  }
}

/** This jest run's cluster (global setup and teardown run in the one jest process). */
const clusterDir = () => path.join(CLUSTERS_DIR, `${PREFIX}${process.pid}`);

/** Starts the cluster and sets CDCFLOW_TEST_PG_URL; stopPostgres() stops and removes it. */
export async function startPostgres(): Promise<void> {
  await removeOrphans();
  const lines = (await postgresScript('start-postgres.sh', clusterDir(), await freePort())).trim().split('\n');
  process.env.CDCFLOW_TEST_PG_URL = lines[lines.length - 1];
}

export async function stopPostgres(): Promise<void> {
  if (existsSync(clusterDir())) await stopAndRemove(clusterDir());
}

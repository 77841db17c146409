/**
 * `npm run demo` (scripts/demo.sh) as the README runs it for a scripted check
 * (CDCFLOW_DEMO_EXIT=1), against the tests' Temporal server: it prints the README's day-2 count
 * table, keeps its PostgreSQL where CDCFLOW_PG_DIR and CDCFLOW_PG_PORT say (the same settings as
 * scripts/start-postgres.sh), stops it, and leaves no queue workflow of its datasets behind on
 * its task queue, so the README's next steps (`cdcflow generate`, whose dataset is also named
 * `generated`, then `run` on the default task queue) are not refused.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../support/free-port';
import { postgresScript } from '../support/postgres-server';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

function runDemo(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // The demo's own task queue (cdcflow-demo), whatever the tests' environment names.
    const inherited = { ...process.env };
    delete inherited.CDCFLOW_TASK_QUEUE;
    const child = spawn('bash', ['scripts/demo.sh'], { cwd: PROJECT_ROOT, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo', () => {
  let pgDir: string;
  let connection: Connection;

  beforeAll(async () => {
    // Beside the tests' own cluster, where the postgres user reaches it.
    pgDir = path.join(tmpdir(), `cdcflow-demo-postgres-${process.pid}`);
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  });
  afterAll(async () => {
    await connection?.close();
    // A demo that failed half-way may have left it running.
    await postgresScript('stop-postgres.sh', pgDir).catch(() => undefined);
    rmSync(pgDir, { recursive: true, force: true });
  });

  it('runs to its end on CDCFLOW_PG_DIR and CDCFLOW_PG_PORT, stops that cluster, and ends its datasets\' queues', async () => {
    const port = await freePort();
    const demo = await runDemo({ CDCFLOW_DEMO_EXIT: '1', CDCFLOW_PG_DIR: pgDir, CDCFLOW_PG_PORT: String(port) });
    expect({ code: demo.code, stderr: demo.code === 0 ? '' : demo.stderr }).toEqual({ code: 0, stderr: '' });
    expect(demo.stdout).toMatch(/records +full +2000 +4000 +2000 +0 +4000 +10000 +8000 +- +- +- /);
    expect(demo.stdout).toMatch(/events +changes +1000 +3000 +1000 +6000 +0 +10000 +5000 +11000 +500 +500 /);

    // The cluster was made and started where the settings say, and stopped at the end.
    expect(existsSync(path.join(pgDir, 'data', 'PG_VERSION'))).toBe(true);
    expect(readFileSync(path.join(pgDir, 'data', 'postmaster.opts'), 'utf8')).toContain(`"-p" "${port}"`);
    expect(existsSync(path.join(pgDir, 'data', 'postmaster.pid'))).toBe(false);

    const client = new Client({ connection });
    for (const dataset of ['generated', 'demo-postgres']) {
      const { status } = await client.workflow.getHandle(`cdcflow/${dataset}`).describe();
      expect({ dataset, status: status.name }).toEqual({ dataset, status: 'TERMINATED' });
    }
  }, 300_000);
});

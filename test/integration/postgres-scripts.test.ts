/**
 * scripts/start-postgres.sh from a checkout the `postgres` user cannot reach (a clone under a
 * private home such as /root, mode 700, where `npm run demo` keeps its cluster): the cluster
 * starts in a folder of its own that the checkout's folder links to, answers, is found again
 * with its port by a second start, and scripts/stop-postgres.sh stops it. Only as root: otherwise the server runs as ourselves.
 */
import { execFile } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../support/free-port';
import { postgresScript } from '../support/postgres-server';

const psql = (url: string, sql: string) => promisify(execFile)('psql', [url, '-Atqc', sql], { env: { ...process.env, PGCONNECT_TIMEOUT: '3' } });
const asRoot = process.getuid?.() === 0 ? it : it.skip;

describe('the local PostgreSQL scripts', () => {
  let home: string;
  let dir: string;
  let outside: string | undefined;

  beforeAll(() => {
    home = mkdtempSync(path.join(tmpdir(), 'cdcflow-private-home-'));
    chmodSync(home, 0o700);
    dir = path.join(home, 'checkout', '.cdcflow', 'postgres');
  });
  afterAll(async () => {
    await postgresScript('stop-postgres.sh', dir).catch(() => undefined);
    if (outside) rmSync(outside, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  asRoot('start a cluster for a checkout under a private home, in a folder the postgres user reaches', async () => {
    const port = await freePort();
    const url = (await postgresScript('start-postgres.sh', dir, port)).trim().split('\n').at(-1)!;
    expect(url).toMatch(/^postgresql:\/\/cdcflow:[0-9a-f]+@127\.0\.0\.1:\d+\/cdcflow$/);
    expect(lstatSync(dir).isSymbolicLink()).toBe(true);
    outside = readlinkSync(dir);
    expect(outside).toMatch(/^\/var\/tmp\/cdcflow-postgres-[0-9a-f]{16}$/);
    expect((await psql(url, 'SELECT 40 + 2')).stdout.trim()).toBe('42');

    // A second start, with no port given, finds the running cluster through the link and names
    // the port it listens on; a stop then stops it.
    expect((await postgresScript('start-postgres.sh', dir)).trim().split('\n').at(-1)).toBe(url);
    await postgresScript('stop-postgres.sh', dir);
    await expect(psql(url, 'SELECT 1')).rejects.toThrow();
  }, 120_000);
});

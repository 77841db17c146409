/**
 * Jest globalSetup for the integration project.
 *
 * - Starts one throw-away Temporal dev server (in-memory, random ports, Web UI included)
 *   for the whole run, unless the user points TEMPORAL_ADDRESS at a server.
 * - Bundles the workflow code once, so each test's Worker can skip webpack.
 *
 * Test workers see what we put in process.env here (they are spawned after
 * globalSetup and inherit the environment):
 *   TEMPORAL_ADDRESS               host:port of a ready server ('default' namespace)
 *   CDCFLOW_TEST_WORKFLOW_BUNDLE   path to the bundled workflows, for
 *                                  Worker.create({ workflowBundle: { codePath } })
 *   CDCFLOW_TEST_PG_URL            a throw-away PostgreSQL cluster (test/support/postgres-server.ts)
 *   CDCFLOW_TEST_UI_URL            the server's Web UI (the browser test drives it); with a
 *                                  user's TEMPORAL_ADDRESS, TEMPORAL_UI_URL or port + 1000
 */
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { Connection } from '@temporalio/client';
import { startPostgres, stopPostgres } from './support/postgres-server';
import { CDCFLOW_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';

export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const TEST_STATE_DIR = path.join(PROJECT_ROOT, '.cdcflow', 'test');
export const PID_FILE = path.join(TEST_STATE_DIR, 'temporal.pid');
const LOG_FILE = path.join(TEST_STATE_DIR, 'temporal-server.log');
const BUNDLE_FILE = path.join(TEST_STATE_DIR, 'workflow-bundle.js');

/** Custom search attributes the workflows set, with their types as the Temporal CLI spells them. */
export const SEARCH_ATTRIBUTES = CDCFLOW_SEARCH_ATTRIBUTES.map((key) => key.name);
const SEARCH_ATTRIBUTE_FLAGS = CDCFLOW_SEARCH_ATTRIBUTES.map((key) => `${key.name}=${key.type[0]}${key.type.slice(1).toLowerCase()}`);

const READY_TIMEOUT_MS = 60_000;

export interface TemporalTestServer {
  pid: number;
  address: string;
  uiUrl: string;
  logFile: string;
  child: ChildProcess;
}

declare global {
  // Shared with test/global-teardown.ts (same process as globalSetup).
  var __TEMPORAL_SERVER__: TemporalTestServer | undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The Temporal CLI: $TEMPORAL_CLI, else the pinned one (installed on first use). */
function temporalCli(): string {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) return fromEnv;
  let out: string;
  try {
    out = execFileSync('bash', [path.join(PROJECT_ROOT, 'scripts', 'install-temporal.sh')], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  } catch (err) {
    throw new Error(`scripts/install-temporal.sh failed: ${errorMessage(err)}`);
  }
  const lines = out.trim().split('\n');
  const bin = lines[lines.length - 1]?.trim();
  if (!bin || !fs.existsSync(bin)) {
    throw new Error(`scripts/install-temporal.sh printed no usable path (got ${JSON.stringify(out)})`);
  }
  return bin;
}

/** Ask the OS for a free TCP port on 127.0.0.1 (tiny race until the server binds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function tailLog(lines = 30): string {
  try {
    return fs.readFileSync(LOG_FILE, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Wait until `address` serves the 'default' namespace and (optionally) knows our
 * search attributes. `alive` (throws if the server died) lets us stop early.
 */
async function waitForTemporal(
  address: string,
  opts: { requireSearchAttributes: boolean; alive?: () => void },
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const sep = address.lastIndexOf(':');
  const host = address.slice(0, sep).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(sep + 1));
  let lastError = 'nothing accepted TCP connections';

  // alive() throws when the server process is gone.
  const checkAlive = () => opts.alive?.();

  // Cheap TCP probe first: gRPC connect attempts are slow to fail.
  while (!(await portOpen(host, port))) {
    checkAlive();
    if (Date.now() > deadline) throw new Error(`Temporal at ${address}: ${lastError} for ${READY_TIMEOUT_MS / 1000}s`);
    await sleep(100);
  }

  while (true) {
    checkAlive();
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: '2s' });
      await connection.workflowService.describeNamespace({ namespace: 'default' });
      if (opts.requireSearchAttributes) {
        const res = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
        const missing = SEARCH_ATTRIBUTES.filter((name) => !(name in (res.customAttributes ?? {})));
        if (missing.length > 0) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
      }
      return;
    } catch (err) {
      lastError = errorMessage(err);
    } finally {
      await connection?.close().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      throw new Error(`Temporal at ${address} not ready within ${READY_TIMEOUT_MS / 1000}s: ${lastError}`);
    }
    await sleep(250);
  }
}

/**
 * A previous run that was killed hard (SIGKILL, OOM) never ran globalTeardown and
 * may have left its server behind. Kill it only if it is an orphan: a dev server
 * whose parent is no longer a jest process (so a concurrent run is left alone).
 */
function killOrphanedServer(): void {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(PID_FILE, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('start-dev')) return;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    let parentCmd = '';
    try {
      parentCmd = fs.readFileSync(`/proc/${ppid}/cmdline`, 'utf8');
    } catch {
      // parent gone: orphan
    }
    if (parentCmd.includes('jest')) return;
    process.kill(pid, 'SIGKILL');
  } catch {
    // no /proc (not Linux) or the process is gone: nothing to do
  }
}

class ServerExitedError extends Error {}

async function startServerOnce(bin: string): Promise<TemporalTestServer> {
  const port = await freePort();
  const uiPort = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = [
    'server',
    'start-dev',
    '--ui-port',
    String(uiPort),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'error',
    ...SEARCH_ATTRIBUTE_FLAGS.flatMap((flag) => ['--search-attribute', flag]),
  ];
  const logFd = fs.openSync(LOG_FILE, 'w');
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { cwd: PROJECT_ROOT, detached: false, stdio: ['ignore', logFd, logFd] });
  } finally {
    fs.closeSync(logFd);
  }
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  const pid = child.pid;
  if (pid === undefined) {
    await sleep(0); // let the 'error' event arrive
    throw new Error(`could not run ${bin}: ${spawnError?.message ?? 'no pid'}`);
  }
  // Don't let the server keep jest's event loop alive, but never leave it behind
  // when jest exits without running globalTeardown.
  child.unref();
  process.once('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  fs.writeFileSync(PID_FILE, `${pid}\n`);
  const server: TemporalTestServer = { pid, address, uiUrl: `http://127.0.0.1:${uiPort}`, logFile: LOG_FILE, child };
  globalThis.__TEMPORAL_SERVER__ = server;

  await waitForTemporal(address, {
    requireSearchAttributes: true,
    alive: () => {
      if (spawnError) throw new Error(`could not run ${bin}: ${spawnError.message}`);
      if (child.exitCode === null && child.signalCode === null) return;
      const how = child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
      throw new ServerExitedError(
        `Temporal dev server (${bin}) exited with ${how} during startup. Last log lines (${LOG_FILE}):\n${tailLog()}`,
      );
    },
  });
  return server;
}

async function startServer(): Promise<TemporalTestServer> {
  killOrphanedServer();
  const bin = temporalCli();
  // The free port can be grabbed by someone else before the server binds it:
  // if the server dies at startup, try again on a fresh port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(bin);
    } catch (err) {
      globalThis.__TEMPORAL_SERVER__ = undefined;
      fs.rmSync(PID_FILE, { force: true });
      if (!(err instanceof ServerExitedError) || attempt >= 3) throw err;
    }
  }
}

/** Bundle src/workflows once for all tests (only once that module exists). */
async function bundleWorkflows(): Promise<void> {
  const workflowsDir = path.join(PROJECT_ROOT, 'src', 'workflows');
  const entry = ['index.ts', 'index.js'].map((f) => path.join(workflowsDir, f)).find((f) => fs.existsSync(f));
  if (!entry) {
    fs.rmSync(BUNDLE_FILE, { force: true });
    delete process.env.CDCFLOW_TEST_WORKFLOW_BUNDLE;
    return;
  }
  // Loaded lazily: @temporalio/worker pulls in webpack and the native core bridge.
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({ workflowsPath: entry, logger: new DefaultLogger('WARN') });
  // Write-then-rename: a concurrent run's workers may be reading the old bundle.
  const tmp = `${BUNDLE_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, BUNDLE_FILE);
  process.env.CDCFLOW_TEST_WORKFLOW_BUNDLE = BUNDLE_FILE;
}

export default async function globalSetup(): Promise<void> {
  fs.mkdirSync(TEST_STATE_DIR, { recursive: true });

  const userAddress = process.env.TEMPORAL_ADDRESS;
  const server = userAddress
    ? waitForTemporal(userAddress, { requireSearchAttributes: true }).catch((err: unknown) => {
        throw new Error(
          `TEMPORAL_ADDRESS=${userAddress} is not usable for the tests: ${errorMessage(err)}\n` +
            `(unset TEMPORAL_ADDRESS to let the tests start their own server, or register the search ` +
            `attributes ${SEARCH_ATTRIBUTE_FLAGS.join(', ')}, e.g. with cdcflow setup)`,
        );
      })
    : startServer();

  // Bundle and start PostgreSQL while the server boots; each takes a few seconds.
  const results = await Promise.allSettled([server, bundleWorkflows(), startPostgres()]);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    // Jest skips globalTeardown when globalSetup throws: clean up here.
    const started = globalThis.__TEMPORAL_SERVER__;
    if (started) {
      started.child.kill('SIGKILL');
      fs.rmSync(PID_FILE, { force: true });
      globalThis.__TEMPORAL_SERVER__ = undefined;
    }
    await stopPostgres();
    throw failure.reason;
  }
  if (!userAddress) {
    process.env.TEMPORAL_ADDRESS = globalThis.__TEMPORAL_SERVER__!.address;
    process.env.CDCFLOW_TEST_UI_URL = globalThis.__TEMPORAL_SERVER__!.uiUrl;
  } else {
    const port = Number(userAddress.slice(userAddress.lastIndexOf(':') + 1));
    process.env.CDCFLOW_TEST_UI_URL = process.env.TEMPORAL_UI_URL || `http://localhost:${port + 1000}`;
  }
}

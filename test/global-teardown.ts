/**
 * Jest globalTeardown for the integration project: stop the Temporal dev server
 * that test/global-setup.ts started (nothing to do if the user supplied
 * TEMPORAL_ADDRESS). SIGTERM first, SIGKILL if it is still there after 5 s.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { TemporalTestServer } from './global-setup';
import { stopPostgres } from './support/postgres-server';

const PID_FILE = path.resolve(__dirname, '..', '.cdcflow', 'test', 'temporal.pid');
const GRACE_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True while `pid` runs (a zombie counts as gone). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Parent pid from /proc (Linux), undefined elsewhere or if gone. */
function parentPid(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function readPidFile(): number | undefined {
  try {
    const pid = Number(fs.readFileSync(PID_FILE, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export default async function globalTeardown(): Promise<void> {
  await stopPostgres();
  const server: TemporalTestServer | undefined = globalThis.__TEMPORAL_SERVER__;
  // Fallback (globalThis not shared with setup): the pid file, but only if that
  // process is our own child, so a user's server or another run's is never hit.
  let pid = server?.pid;
  if (pid === undefined) {
    const fromFile = readPidFile();
    if (fromFile !== undefined && parentPid(fromFile) === process.pid) pid = fromFile;
  }
  if (pid === undefined) return;

  const child = server?.child;
  const alive = () => (child ? child.exitCode === null && child.signalCode === null : running(pid));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };

  if (alive()) {
    signal('SIGTERM');
    const deadline = Date.now() + GRACE_MS;
    while (alive() && Date.now() < deadline) await sleep(50);
    if (alive()) {
      signal('SIGKILL');
      const hardDeadline = Date.now() + 2_000;
      while (alive() && Date.now() < hardDeadline) await sleep(50);
    }
  }

  // Leave a pid file that belongs to another (concurrent) run alone.
  if (readPidFile() === pid) fs.rmSync(PID_FILE, { force: true });
  globalThis.__TEMPORAL_SERVER__ = undefined;
}

/**
 * A PostgreSQL server that stops answering (its processes stopped with SIGSTOP, as a frozen or
 * cut-off server looks to a client): `run` says so and the stage is retried within
 * CDCFLOW_PG_TIMEOUT_SECONDS and the heartbeat timeout, instead of waiting without end; once the
 * server answers again, the run completes.
 *
 * Needs dist/ (the runs are watched through the real CLI; the test script builds it).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cdcflow } from '../support/cli';
import { type Harness, startHarness, tempDir, uniqueDataset, writeConfig } from '../support/harness';
import { lockTable, PG_URL_VAR, psql } from '../support/postgres';

const DATE = '2024-01-01';

let h: Harness;
let dir: string;

/** A dataset of one table read from `source` of the test cluster, retried after 3 s without a heartbeat. */
function stallConfig(name: string, source: string): string {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeConfig(folder, {
    dataset: uniqueDataset(name),
    warehouse: 'warehouse',
    heartbeatTimeoutSeconds: 3,
    tables: [{ name, keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'postgres', connection: PG_URL_VAR, table: source } }],
  });
  return path.join(folder, 'dataset.yaml');
}

/** The test cluster's postmaster and, with `children`, every process it has started (the sessions too). */
function clusterProcesses(children: boolean): number[] {
  const postmaster = Number(readFileSync(path.join(psql('SHOW data_directory'), 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (!children) return [postmaster];
  return [postmaster, ...childrenOf(postmaster)];
}

/** The processes whose parent is `pid`, from /proc (pgrep is not on every machine). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && parentOf(entry) === pid)
    .map(Number);
}

/** A process's parent: the second field after the command name, which is in parentheses and may hold spaces; undefined once it has ended. */
function parentOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Signals each process still there (a session may have ended meanwhile). */
function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

/** `cdcflow run` of the config, as a user starts it. */
function run(config: string, until: (stderr: string) => boolean, date = DATE) {
  return cdcflow(['run', '--config', config, '--date', date], { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue }, until);
}

/**
 * Runs `config` with `table` locked, and stops the whole cluster once the progress line shows the
 * stage waiting for that lock (so the server stops mid-read or mid-apply); resumes it, and lets the
 * lock go, once a retry shows, or after 40 s (the old code waited without end). The run's output
 * after the freeze is `afterFreeze`.
 */
async function runFrozenMidStage(config: string, table: string, date = DATE) {
  const lock = await lockTable(table);
  let stopped: number[] = [];
  let frozenAt: number | undefined;
  const thaw = () => {
    signal(stopped, 'SIGCONT');
    void lock.release();
  };
  const giveUp = setTimeout(thaw, 40_000);
  try {
    const out = await run(
      config,
      (stderr) => {
        if (frozenAt === undefined && stderr.includes('for a lock on')) {
          frozenAt = stderr.length;
          stopped = clusterProcesses(true);
          signal(stopped, 'SIGSTOP');
        }
        if (frozenAt !== undefined && /retrying \(attempt 2\)/.test(stderr.slice(frozenAt))) thaw();
        return false;
      },
      date,
    );
    return { ...out, afterFreeze: out.stderr.slice(frozenAt) };
  } finally {
    clearTimeout(giveUp);
    signal(stopped, 'SIGCONT');
    await lock.release();
  }
}

beforeAll(async () => {
  // The in-process worker's attachments read it: a 2 s bound keeps the test short.
  process.env.CDCFLOW_PG_TIMEOUT_SECONDS = '2';
  h = await startHarness();
  dir = tempDir('cdcflow-pg-stalls-');
  psql(`DROP SCHEMA IF EXISTS pgstall CASCADE; CREATE SCHEMA pgstall;`);
});
afterAll(async () => {
  await h?.stop();
  delete process.env.CDCFLOW_PG_TIMEOUT_SECONDS;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a PostgreSQL server that stops answering', () => {
  it('while the extract connects: the attempt fails after the timeout naming the variable, is retried, and the run completes once it answers', async () => {
    psql(`CREATE TABLE pgstall.connect (id integer PRIMARY KEY, v text); INSERT INTO pgstall.connect VALUES (1, 'a'), (2, 'b');`);
    const config = stallConfig('connect', 'pgstall.connect');
    const stopped = clusterProcesses(false);
    signal(stopped, 'SIGSTOP');
    // The old extract waited for the connection without end ("connect: extract (1/5)"): the safety resumes it.
    const giveUp = setTimeout(() => signal(stopped, 'SIGCONT'), 40_000);
    try {
      const out = await run(config, (stderr) => {
        if (/retrying \(attempt 2\)/.test(stderr)) signal(stopped, 'SIGCONT');
        return false;
      });
      expect(out.stderr).toMatch(
        new RegExp(
          `connect: extract \\(1/\\d\\) · retrying \\(attempt 2\\): PostgreSQL \\(\\$${PG_URL_VAR}\\) did not answer a connection attempt within 2s \\(CDCFLOW_PG_TIMEOUT_SECONDS\\): stopped, overloaded or cut off\\?`,
        ),
      );
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/connect\s+full\s+2\s+0\s+0/);
    } finally {
      clearTimeout(giveUp);
      signal(stopped, 'SIGCONT');
    }
  }, 90_000);

  it('mid-extract: the progress line says it does not answer, the stage stops heartbeating and is retried, and the run completes once it answers', async () => {
    psql(`CREATE TABLE pgstall.frozen (id integer PRIMARY KEY, v text); INSERT INTO pgstall.frozen VALUES (1, 'a'), (2, 'b');`);
    const config = stallConfig('frozen', 'pgstall.frozen');
    // The lock holds the extract's read at the server, so the server stops mid-read.
    const out = await runFrozenMidStage(config, 'pgstall.frozen');
    expect(out.afterFreeze).toMatch(new RegExp(`frozen: extract \\(1/\\d\\) · PostgreSQL \\(\\$${PG_URL_VAR}\\): no answer for 2s to a check of its sessions`));
    expect(out.afterFreeze).toMatch(/frozen: extract \(1\/\d\) · .* · retrying \(attempt 2\): activity Heartbeat timeout/);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/frozen\s+full\s+2\s+0\s+0/);
  }, 90_000);

  it('mid-apply of a sink: the same, and the sink gets the date once it answers; status says it does not answer instead of waiting', async () => {
    const folder = path.join(dir, 'sinkt');
    mkdirSync(path.join(folder, 'in'), { recursive: true });
    writeFileSync(path.join(folder, 'in', `${DATE}.csv`), 'id,v\n1,a\n');
    writeFileSync(path.join(folder, 'in', '2024-01-02.csv'), 'id,v\n1,b\n2,c\n');
    writeConfig(folder, {
      dataset: uniqueDataset('sinkt'),
      warehouse: 'warehouse',
      heartbeatTimeoutSeconds: 3,
      tables: [
        {
          name: 'sinkt',
          keys: [{ name: 'id', type: 'integer' }],
          columns: [{ name: 'v', type: 'varchar' }],
          source: { format: 'csv', path: 'in/{date}.csv' },
          sinks: [{ type: 'postgres', name: 'app', connection: PG_URL_VAR, schema: 'pgstall' }],
        },
      ],
    });
    const config = path.join(folder, 'dataset.yaml');
    expect((await run(config, () => false)).code).toBe(0);
    // The lock holds the apply at the server, so the server stops mid-apply.
    const out = await runFrozenMidStage(config, 'pgstall.sinkt_current', '2024-01-02');
    expect(out.afterFreeze).toMatch(new RegExp(`sinkt: sink[^|]* · PostgreSQL \\(\\$${PG_URL_VAR}\\): no answer for 2s to a check of its sessions`));
    expect(out.afterFreeze).toMatch(/sinkt: sink[^|]* · retrying \(attempt 2\): activity Heartbeat timeout/);
    expect(out.code).toBe(0);
    expect(psql('SELECT string_agg(id || v, \',\' ORDER BY id) FROM pgstall.sinkt_current')).toBe('1b,2c');

    // `status` reads the sink's markers: with the server stopped it says so after the timeout (it waited without end).
    const postmaster = clusterProcesses(false);
    signal(postmaster, 'SIGSTOP');
    try {
      const status = await cdcflow(['status', '--config', config, '--json'], { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_PG_TIMEOUT_SECONDS: '2' }, undefined, 30_000);
      expect(JSON.parse(status.stdout).sinks).toEqual([
        {
          table: 'sinkt',
          sink: 'app',
          type: 'postgres',
          lastApplied: null,
          error: `PostgreSQL ($${PG_URL_VAR}) did not answer a connection attempt within 2s (CDCFLOW_PG_TIMEOUT_SECONDS): stopped, overloaded or cut off?`,
        },
      ]);
    } finally {
      signal(postmaster, 'SIGCONT');
    }
  }, 120_000);
});

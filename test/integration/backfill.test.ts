/**
 * Dumps through the dataset's queue workflow, against the real Temporal dev server and the
 * real PostgreSQL cluster: a keys-only dump, a dump requested during a run, pause, resume and
 * cancel, the same request sent twice, and delta runs by watermark. (The worker killed
 * mid-dump and the full dump's D and U rows are in postgres-source.test.ts.)
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { startDatasetRun } from '../../src/client/start-run';
import { signalDatasetQueue } from '../../src/client/dataset-queue';
import type { DatasetConfig } from '../../src/config/types';
import { lakeTables, withCatalog } from '../../src/warehouse/catalog';
import { commitSnapshots, readCommitLog, tableSnapshots } from '../../src/warehouse/commits';
import { tableLayout } from '../../src/warehouse/layout';
import { sensitiveLayout } from '../../src/warehouse/sensitive';
import { completeKeyScope } from '../../src/activities/key-scope';
import { chunkFile, extractFolder, stateChunkFile } from '../../src/sources/postgres-source';
import { sourceOf } from '../../src/sources/registry';
import { cancelSignal, pauseSignal, resumeSignal } from '../../src/workflows/backfill';
import { backfillTableWorkflowId, backfillWorkflowId, datasetQueueWorkflowId, datasetWorkflowId, tableWorkflowId } from '../../src/workflows/ids';
import type { RunRow } from '../../src/client/find-runs';
import { dumpFinished, dumpStatus, queueStatus, requestDump, runDump, waitForDump } from '../support/backfill';
import { cdcflow } from '../support/cli';
import { committedDates, datasetFolders, failedTable, type Harness, readRows, runDataset, startHarness, tableResult, writeCsv } from '../support/harness';
import { lockTable, PG_URL_VAR, psql, withOptions } from '../support/postgres';
import { activityAttempts, sigkill, sleep, spawnWorker, waitForRunningActivity, withTimeout } from '../support/worker-process';

const D1 = '2024-01-01';
const D2 = '2024-01-02';
const D3 = '2024-01-03';

let h: Harness;
/** Where a stage waits until released: `arrived` when it gets there. */
type Gate = { arrived: () => void; released: Promise<void> };
// Holds the first write of a run started with `holdNextWrite` until released.
let writeGate: Gate | undefined;
// Runs once, before the next run's hash stage (what happens to its batch between the stages).
let beforeNextHash: (() => void) | undefined;
// Holds the next commit, inside its write stage (heartbeating), until released.
let commitGate: Gate | undefined;
const folders = datasetFolders('backfill');

/** Waits at the gate, if there is one. */
async function pass(gate: Gate | undefined): Promise<void> {
  if (!gate) return;
  gate.arrived();
  await gate.released;
}

beforeAll(async () => {
  h = await startHarness({
    beforeStage: async (stage) => {
      if (stage === 'hash' && beforeNextHash) {
        const hook = beforeNextHash;
        beforeNextHash = undefined;
        hook();
      }
      if (stage !== 'write') return;
      const gate = writeGate;
      writeGate = undefined;
      await pass(gate);
    },
    atStep: async (step) => {
      if (step !== 'commit') return;
      const gate = commitGate;
      commitGate = undefined;
      await pass(gate);
    },
  });
  psql('DROP SCHEMA IF EXISTS bf CASCADE; CREATE SCHEMA bf;');
});
afterAll(async () => {
  await h?.stop();
  folders.removeAll();
});

/** A new gate (see Gate): `reached` resolves when a stage arrives at it, `release` lets it go. */
function newGate(): { gate: Gate; reached: Promise<void>; release: () => void } {
  let arrived!: () => void;
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  let release!: () => void;
  return { gate: { arrived, released: new Promise<void>((resolve) => (release = resolve)) }, reached, release };
}

/** Holds the next commit within its write stage: `atCommit` resolves when it is reached, `release` lets it go. */
function holdNextCommit(): { atCommit: Promise<void>; release: () => void } {
  const { gate, reached, release } = newGate();
  commitGate = gate;
  return { atCommit: reached, release };
}

/** Holds the next run's write stage: `atWrite` resolves when it is reached, `release` lets it go. */
function holdNextWrite(): { atWrite: Promise<void>; release: () => void } {
  const { gate, reached, release } = newGate();
  writeGate = gate;
  return { atWrite: reached, release };
}

/** A PostgreSQL table bf.<name> of `rows` rows (id, v, updated_at) and a dataset reading it. */
function pgTable(name: string, rows: number, table: object = {}): DatasetConfig {
  psql(`CREATE TABLE bf.${name} (id integer PRIMARY KEY, v text, updated_at timestamp);
    INSERT INTO bf.${name} SELECT g, 'v' || g, TIMESTAMP '2024-01-01 00:00:00' + g * INTERVAL '1 second' FROM generate_series(1, ${rows}) g;`);
  return folders.setup([
    {
      name,
      keys: [{ name: 'id', type: 'integer' }],
      columns: [
        { name: 'v', type: 'varchar' },
        { name: 'updated_at', type: 'timestamp' },
      ],
      source: { format: 'postgres', connection: PG_URL_VAR, table: `bf.${name}`, chunkRows: 4 },
      ...table,
    },
  ]).config;
}

const signal = (config: DatasetConfig, s: typeof pauseSignal | typeof resumeSignal) => signalDatasetQueue(h.client, h.settings.taskQueue, config.dataset, s, []);

/**
 * A keys-only dump of a table whose key PostgreSQL holds as text: refused at its extract's first
 * attempt with `message`, and nothing committed beyond the first run.
 */
async function expectTextKeysRefused(t: { name: string; key: { name: string; type: string; format?: string }; sourceKeys: string[]; requested: string; message: string }): Promise<void> {
  const key = t.key.name;
  psql(`CREATE TABLE bf.${t.name} (${key} text PRIMARY KEY, v text); INSERT INTO bf.${t.name} VALUES ${t.sourceKeys.map((k) => `('${k}', 'a')`).join(', ')};`);
  const config = folders.setup([
    {
      name: t.name,
      keys: [t.key],
      columns: [{ name: 'v', type: 'varchar' }],
      source: { format: 'postgres', connection: PG_URL_VAR, table: `bf.${t.name}` },
    },
  ]).config;
  expect(tableResult(await runDataset(h, config, D1), t.name).counts).toMatchObject({ I: t.sourceKeys.length });
  psql(`UPDATE bf.${t.name} SET v = 'new' WHERE ${key} = '${t.sourceKeys[0]}';`);
  const dump = await withTimeout(runDump(h, config, { requestId: t.name, businessDate: D2, keys: { table: t.name, rows: [{ [key]: t.requested }] } }), 30_000, () => 'the dump retried');
  expect(dump.status).toMatchObject({ state: 'failed', error: expect.stringContaining(t.message) });
  expect((await activityAttempts(h.client, `${backfillWorkflowId(config.dataset, t.name)}/${t.name}`)).extractSource).toEqual([1]);
  expect(await committedDates(h.engine, config.warehouse, config.dataset, t.name)).toEqual([D1]);
}

/** Runs `sql` in a transaction left open (psql in the background) until `commit`. */
async function openTransaction(sql: string): Promise<{ commit: () => Promise<void> }> {
  const child = spawn('psql', [process.env[PG_URL_VAR]!, '-X', '-q', '-v', 'ON_ERROR_STOP=1'], {
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { ...process.env, PGAPPNAME: 'cdcflow-test-open' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin!.write(`BEGIN; ${sql};\n`);
  const idle = () => psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cdcflow-test-open' AND state = 'idle in transaction'`);
  while (idle() !== '1') await sleep(20);
  return {
    async commit() {
      child.stdin!.end('COMMIT;\n');
      await exited;
    },
  };
}

describe('backfill', () => {
  it('a keys-only dump upserts the keys found, deletes the others asked for, touches no other key and names the missing ones', async () => {
    const config = pgTable('keys', 10);
    tableResult(await runDataset(h, config, D1), 'keys');
    psql(`UPDATE bf.keys SET v = 'new' WHERE id IN (2, 5); DELETE FROM bf.keys WHERE id IN (3, 6); INSERT INTO bf.keys VALUES (11, 'v11', NULL), (12, 'v12', NULL);`);

    // 5, 6 and 12 changed too but are not asked for; 99 exists nowhere.
    const rows = ['2', '3', '11', '99'].map((id) => ({ id }));
    const { status, run } = await runDump(h, config, { requestId: 'k1', businessDate: D2, keys: { table: 'keys', rows } });
    expect(status).toMatchObject({ state: 'completed', tables: { keys: { phase: 'done', missingKeys: ['(id=99)'] } } });
    const result = tableResult({ ok: true, result: run! }, 'keys');
    expect(result).toMatchObject({ mode: 'full', counts: { I: 1, U: 1, D: 1, X: 0, N: 8 }, missingKeys: ['(id=99)'] });
    expect(await readRows(h.engine, result.historyPath, 'id', ['KEY_HASH', 'NONKEY_HASH', 'updated_at'])).toEqual([
      { id: 2, v: 'new', OPERATION: 'U', eff_start_date: D2 },
      { id: 3, v: 'v3', OPERATION: 'D', eff_start_date: D2 },
      { id: 11, v: 'v11', OPERATION: 'I', eff_start_date: D2 },
    ]);
    const current = await readRows(h.engine, result.currentPath, 'id', ['KEY_HASH', 'NONKEY_HASH', 'updated_at', 'EFF_START_DATE']);
    expect(current.map((r) => `${r.id}:${r.v}`)).toEqual(['1:v1', '2:new', '4:v4', '5:v5', '6:v6', '7:v7', '8:v8', '9:v9', '10:v10', '11:v11']);

    // Another keys dump on the date already committed: the date's history becomes the net change since D1.
    const again = await runDump(h, config, { requestId: 'k2', businessDate: D2, keys: { table: 'keys', rows: [{ id: '5' }] } });
    const amended = tableResult({ ok: true, result: again.run! }, 'keys');
    expect(amended).toMatchObject({ baseDate: D1, counts: { I: 1, U: 2, D: 1, X: 0, N: 7 }, missingKeys: [] });
    expect((await readRows(h.engine, amended.historyPath, 'id', ['KEY_HASH', 'NONKEY_HASH', 'updated_at'])).map((r) => `${r.id}:${r.OPERATION}`)).toEqual([
      '2:U',
      '3:D',
      '5:U',
      '11:I',
    ]);
    expect(await committedDates(h.engine, config.warehouse, config.dataset, 'keys')).toEqual([D1, D2]);
  });

  it('a keys-only dump keeps the other keys as committed, sensitive columns and a column appended since included', async () => {
    // Before, the other keys were read from the published current.parquet, which lacks the sensitive
    // columns and an appended one: the extract failed on a Binder Error, retried for minutes.
    psql(`CREATE TABLE bf.secret (id integer PRIMARY KEY, name text, salary integer); INSERT INTO bf.secret SELECT g, 'p' || g, g * 100 FROM generate_series(1, 5) g;`);
    const config = folders.setup([
      {
        name: 'secret',
        keys: [{ name: 'id', type: 'integer' }],
        columns: [
          { name: 'name', type: 'varchar' },
          { name: 'salary', type: 'integer', sensitive: true },
        ],
        source: { format: 'postgres', connection: PG_URL_VAR, table: 'bf.secret' },
      },
    ]).config;
    await runDataset(h, config, D1);
    const dumped = async (cfg: DatasetConfig, requestId: string, businessDate: string, id: string) => {
      const { status, run } = await withTimeout(runDump(h, cfg, { requestId, businessDate, keys: { table: 'secret', rows: [{ id }] } }), 30_000, () => 'the dump retried');
      expect(status.state).toBe('completed');
      return tableResult({ ok: true, result: run! }, 'secret');
    };
    psql(`UPDATE bf.secret SET salary = 1 WHERE id = 2;`);
    expect((await dumped(config, 'secret-1', D2, '2')).counts).toMatchObject({ I: 0, U: 1, D: 0, N: 4 });
    const salaries = async () => (await readRows(h.engine, sensitiveLayout(config.warehouse, config.dataset, 'secret').current, 'salary', ['KEY_HASH'])).map((r) => r.salary);
    expect(await salaries()).toEqual([1, 100, 300, 400, 500]);

    psql(`ALTER TABLE bf.secret ADD COLUMN bonus integer; UPDATE bf.secret SET bonus = 7 WHERE id = 3;`);
    const [secret] = config.tables;
    const appended = { ...config, tables: [{ ...secret, columns: [...secret.columns, { name: 'bonus', type: 'integer' }] }] };
    const result = await dumped(appended, 'secret-2', D3, '3');
    expect(result.counts).toMatchObject({ I: 0, U: 1, D: 0, N: 4 });
    expect((await readRows(h.engine, result.currentPath, 'id', ['KEY_HASH', 'NONKEY_HASH', 'EFF_START_DATE', 'OPERATION'])).map((r) => `${r.id}:${r.name}:${r.bonus}`)).toEqual([
      '1:p1:null',
      '2:p2:null',
      '3:p3:7',
      '4:p4:null',
      '5:p5:null',
    ]);
    expect(await salaries()).toEqual([1, 100, 300, 400, 500]);
  });

  it('a keys-only dump whose state chunk is gone or changed before the hash stage is refused, naming it, with nothing committed', async () => {
    const config = pgTable('statechunk', 10);
    const [table] = config.tables;
    tableResult(await runDataset(h, config, D1), 'statechunk');
    const layout = tableLayout(config.warehouse, config.dataset, 'statechunk');
    const published = () => [readFileSync(layout.current), readFileSync(layout.history(D1))];
    const before = published();
    const folder = extractFolder(table, D2);
    // Keys 1..6 come from the source in two chunks; the state chunk holds the other 4 as committed.
    const keys = ['1', '2', '3', '4', '5', '6'];
    const dump = (requestId: string) => runDump(h, config, { requestId, businessDate: D2, keys: { table: 'statechunk', rows: keys.map((id) => ({ id })) } });
    const tableWorkflow = (requestId: string) => `${backfillWorkflowId(config.dataset, requestId)}/statechunk`;

    // Without it, the full-mode diff would delete keys 7..10: 4 of 10 rows, which the delete guard lets through.
    beforeNextHash = () => rmSync(stateChunkFile(folder));
    const gone = await dump('gone');
    expect(gone.status).toMatchObject({ state: 'failed', error: expect.stringContaining(`the state chunk of the extract of ${D2} is missing, its manifest records 4;`) });
    expect(gone.status.error).toContain(`dataset=${config.dataset} table=statechunk`);
    expect(gone.status.error).toContain(`file=${stateChunkFile(folder)}`);
    expect((await activityAttempts(h.client, tableWorkflow('gone'))).hashBatch).toEqual([1]);

    // A retried extract of that run keeps its chunks, writes the state chunk again and records it again.
    const { runId } = await h.client.workflow.getHandle(tableWorkflow('gone')).describe();
    const batch = await h.engine.withSession(async (session) => {
      const request = { businessDate: D2, since: null, runId: `${tableWorkflow('gone')}/${runId}`, keys: keys.map((k) => [k]) };
      const retried = await sourceOf(table).extract!(session, table, request, () => undefined);
      expect(retried).toMatchObject({ chunks: 2, rows: 6, resumedChunks: 2 });
      expect(await completeKeyScope(h.engine, session, table, D2, retried, request.keys)).toEqual({ missingKeys: [] });
      return sourceOf(table).batch(session, table, D2);
    });
    expect(batch.files.map((f) => path.basename(f.path))).toEqual(['chunk-000001.parquet', 'chunk-000002.parquet', 'chunk-state.parquet']);

    // Replaced by a file of other rows (here a chunk's 2): refused the same way.
    beforeNextHash = () => copyFileSync(chunkFile(folder, 2), stateChunkFile(folder));
    const changed = await dump('changed');
    expect(changed.status).toMatchObject({ state: 'failed', error: expect.stringContaining(`the state chunk of the extract of ${D2} holds 2 rows, its manifest records 4;`) });
    // A keys-only manifest that does not record it (edited by hand): the batch is not whole either.
    const manifest = path.join(folder, 'manifest.json');
    beforeNextHash = () => writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), stateChunk: undefined }));
    const unrecorded = await dump('unrecorded');
    expect(unrecorded.status).toMatchObject({ state: 'failed', error: expect.stringContaining(`the keys-only extract of ${D2} has no state chunk recorded`) });
    expect(await committedDates(h.engine, config.warehouse, config.dataset, 'statechunk')).toEqual([D1]);
    expect(published()).toEqual(before);

    // Left alone, the same dump changes only what changed among the keys asked for.
    psql(`UPDATE bf.statechunk SET v = 'new' WHERE id IN (2, 8);`);
    const kept = tableResult({ ok: true, result: (await dump('kept')).run! }, 'statechunk');
    expect(kept.counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 9 });
    expect(kept.currentRows).toBe(10);
  });

  it('cdcflow backfill sends a keys dump, waits, prints counts and missing keys; --status lists it with its chunks', async () => {
    const dir = path.dirname(pgTable('clikeys', 6).warehouse);
    const file = path.join(dir, 'dataset.yaml');
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue, CDCFLOW_SEARCH_ATTRIBUTES: 'off' };
    writeFileSync(path.join(dir, 'keys.csv'), 'id\n4\n404\n');
    psql(`UPDATE bf.clikeys SET v = 'new' WHERE id IN (2, 4);`);
    const out = await cdcflow(['backfill', '--config', file, '--tables', 'clikeys', '--key', 'id=2', '--keys-file', path.join(dir, 'keys.csv'), '--date', D1, '--request-id', 'cli'], env);
    expect(out).toMatchObject({ code: 0 });
    expect(out.stdout).toMatch(/^clikeys\s+full\s+2\s+0\s+0\s+0\s+0\s/m);
    expect(out.stdout).toContain('keys found neither at the source nor in the committed state:\n  clikeys (id=404)\n');
    const status = await cdcflow(['backfill', '--config', file, '--status'], env);
    expect(status.stdout).toMatch(/^cli\s+2024-01-01\s+completed\s+3 key\(s\) of clikeys\s+clikeys\s+done\s+1\s+2$/m);
  });

  it('cdcflow backfill shows a table whose stage is being retried, and why, while the dump runs', async () => {
    // Before, its line said only "running" while the extract retried for minutes.
    const variable = 'CDCFLOW_TEST_PG_DOWN';
    process.env[variable] = 'postgresql://cdcflow@127.0.0.1:1/none';
    const config = pgTable('retried', 2, { source: { format: 'postgres', connection: variable, table: 'bf.retried' } });
    const file = path.join(path.dirname(config.warehouse), 'dataset.yaml');
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue, CDCFLOW_SEARCH_ATTRIBUTES: 'off' };
    try {
      const out = await cdcflow(['backfill', '--config', file, '--date', D1, '--request-id', 'retried'], env, (stderr) => stderr.includes('retrying (attempt 2)'), 60_000);
      expect(out.stderr).toMatch(/^running {2}retried · retrying \(attempt 2\): .*Unable to connect to Postgres at "\$CDCFLOW_TEST_PG_DOWN": .*Connection refused$/m);
    } finally {
      await signalDatasetQueue(h.client, h.settings.taskQueue, config.dataset, cancelSignal, [{}]);
      delete process.env[variable];
    }
  });

  it('a key given twice, by --key, the keys file or a signal, is one key in the scope and the missing keys', async () => {
    const table = pgTable('dupkeys', 4);
    const file = path.join(path.dirname(table.warehouse), 'dataset.yaml');
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue, CDCFLOW_SEARCH_ATTRIBUTES: 'off' };
    writeFileSync(path.join(path.dirname(file), 'keys.csv'), 'id\n2\n404\n404\n');
    const args = ['backfill', '--config', file, '--tables', 'dupkeys', '--key', 'id=2', '--key', 'id=404', '--keys-file', path.join(path.dirname(file), 'keys.csv'), '--date', D1];
    const out = await cdcflow([...args, '--request-id', 'dup'], env);
    expect(out).toMatchObject({ code: 0 });
    expect(out.stdout).toContain('keys found neither at the source nor in the committed state:\n  dupkeys (id=404)\nTemporal UI');
    expect(await dumpStatus(h, table.dataset, 'dup')).toMatchObject({ scope: '2 key(s) of dupkeys', tables: { dupkeys: { missingKeys: ['(id=404)'] } } });

    const rows = ['3', '3', '99', '99'].map((id) => ({ id }));
    const { status } = await runDump(h, table, { requestId: 'dup-signal', businessDate: D1, keys: { table: 'dupkeys', rows } });
    expect(status).toMatchObject({ state: 'completed', scope: '2 key(s) of dupkeys', tables: { dupkeys: { rows: 1, missingKeys: ['(id=99)'] } } });
  });

  it('keys too many for a signal go through a file in the warehouse: the dump reads them there, the signal carries their digest', async () => {
    const table = pgTable('manykeys', 10);
    const dir = path.dirname(table.warehouse);
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue, CDCFLOW_SEARCH_ATTRIBUTES: 'off' };
    // 3 MB of keys as JSON: the old command failed with the server's "3 INVALID_ARGUMENT: Blob data size exceeds limit".
    writeFileSync(path.join(dir, 'keys.csv'), `id\n${Array.from({ length: 200_000 }, (_, i) => i + 1).join('\n')}\n1\n2\n`);
    const args = ['backfill', '--config', path.join(dir, 'dataset.yaml'), '--tables', 'manykeys', '--keys-file', path.join(dir, 'keys.csv'), '--date', D1, '--request-id', 'many'];
    const out = await cdcflow(args, env);
    expect(out).toMatchObject({ code: 0 });
    expect(out.stdout).toMatch(/^manykeys\s+full\s+10\s+0\s+0\s+0\s+0\s/m);
    // 199,990 keys exist nowhere: the first 100 by name, then how many in all.
    expect(out.stdout).toContain('  manykeys (id=11)\n');
    expect(out.stdout).toContain('  manykeys (id=110)\n  manykeys and 199890 more (199990 in all)\n');
    expect(out.stdout).not.toContain('(id=111)');
    expect(await dumpStatus(h, table.dataset, 'many')).toMatchObject({ scope: '200000 key(s) of manykeys', tables: { manykeys: { missingKeyCount: 199_990 } } });

    const history = await h.client.workflow.getHandle(datasetQueueWorkflowId(table.dataset)).fetchHistory();
    const signals = (history.events ?? []).map((e) => e.workflowExecutionSignaledEventAttributes).filter((a) => a?.signalName === 'backfill');
    expect(signals).toHaveLength(1);
    expect(signals[0]!.input!.payloads![0].data!.length).toBeLessThan(16_384);
    expect(readdirSync(path.join(table.warehouse, '_work', table.dataset, 'manykeys', 'requested-keys'))).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.json$/)]);
  }, 120_000);

  it("a dump whose keys file is missing or not what its signal says fails at once, naming it, with nothing committed", async () => {
    const table = pgTable('keysfile', 3);
    const file = (sha256: string) => path.join(table.warehouse, '_work', table.dataset, 'keysfile', 'requested-keys', `${sha256}.json`);
    const sha256 = 'a'.repeat(64);
    const missing = await withTimeout(runDump(h, table, { requestId: 'gone', businessDate: D1, keys: { table: 'keysfile', file: { sha256, count: 2 } } }), 30_000, () => 'the dump retried');
    expect(missing.status).toMatchObject({ state: 'failed', scope: '2 key(s) of keysfile', error: expect.stringContaining('the file of the 2 requested keys is missing') });
    expect(missing.status.error).toContain(file(sha256));
    expect((await activityAttempts(h.client, `${backfillWorkflowId(table.dataset, 'gone')}/keysfile`)).extractSource).toEqual([1]);

    mkdirSync(path.dirname(file(sha256)), { recursive: true });
    writeFileSync(file(sha256), '[["1"],["2"]]');
    const changed = await withTimeout(runDump(h, table, { requestId: 'changed', businessDate: D1, keys: { table: 'keysfile', file: { sha256, count: 2 } } }), 30_000, () => 'the dump retried');
    expect(changed.status).toMatchObject({ state: 'failed', error: expect.stringContaining('the file of the requested keys does not hold what the request stored') });
    expect(await committedDates(h.engine, table.warehouse, table.dataset, 'keysfile')).toEqual([]);
  });

  it('cdcflow backfill with no worker on the task queue waits, saying so, instead of failing on a query timeout while the request stays queued', async () => {
    const table = pgTable('noworker', 2);
    const file = path.join(path.dirname(table.warehouse), 'dataset.yaml');
    const queue = `nobody-${table.dataset}`;
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: queue, CDCFLOW_SEARCH_ATTRIBUTES: 'off' };
    try {
      // The old command exited 1 with "Failed to query Workflow: … query timed out before a worker could process it".
      const out = await cdcflow(['backfill', '--config', file, '--date', D1], env, (stderr) => stderr.includes('waiting for a worker'), 60_000);
      expect(out.stderr).toContain(`waiting for a worker on task queue "${queue}" (start one with: cdcflow worker); the request stays queued`);
      expect(out.stderr).not.toContain('Failed to query');

      // --status asks the queue, which no worker answers: said at once (it was DEADLINE_EXCEEDED after 30 s).
      const started = Date.now();
      const status = await cdcflow(['backfill', '--config', file, '--status'], env);
      expect(status.code).toBe(1);
      expect(status.stderr).toContain(`no worker polls task queue "${queue}", where the queue workflow ${datasetQueueWorkflowId(table.dataset)} of dataset "${table.dataset}" runs`);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await h.client.workflow.getHandle(datasetQueueWorkflowId(table.dataset)).terminate('test over');
    }
  }, 90_000);

  it('backfill --status when the queue\'s worker was killed moments ago (the server still lists it) says no worker answered, within seconds', async () => {
    const table = pgTable('deadworker', 2);
    const file = path.join(path.dirname(table.warehouse), 'dataset.yaml');
    const queue = `dead-${table.dataset}`;
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: queue, CDCFLOW_SEARCH_ATTRIBUTES: 'off' };
    const worker = await spawnWorker(queue, path.join(path.dirname(table.warehouse), 'duckdb-tmp'));
    try {
      expect(await cdcflow(['backfill', '--config', file, '--pause'], env)).toMatchObject({ code: 0 });
      expect((await cdcflow(['backfill', '--config', file, '--status'], env)).stdout).toContain(`${table.dataset}: PAUSED`);
      await sigkill(worker);
      // The old command failed after 30 s with "9 FAILED_PRECONDITION: no poller seen for task queue recently".
      const started = Date.now();
      const status = await cdcflow(['backfill', '--config', file, '--status'], env);
      expect(status.code).toBe(1);
      expect(status.stderr).toContain(`no worker answered within 10 s (stopped lately, overloaded or cut off from the server?) on task queue "${queue}"`);
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await h.client.workflow.getHandle(datasetQueueWorkflowId(table.dataset)).terminate('test over');
    }
  }, 90_000);

  it('a key value its column cannot hold is refused by the CLI before anything is queued, and by the worker at once', async () => {
    const table = pgTable('badkey', 3);
    const file = path.join(path.dirname(table.warehouse), 'dataset.yaml');
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue, CDCFLOW_SEARCH_ATTRIBUTES: 'off' };
    const cli = await withTimeout(cdcflow(['backfill', '--config', file, '--tables', 'badkey', '--key', 'id=abc', '--date', D1], env), 30_000, () => 'the CLI waited');
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('requested key (id=abc): value "abc" of key column "id" does not convert exactly to integer');
    await expect(h.client.workflow.getHandle(datasetQueueWorkflowId(table.dataset)).describe()).rejects.toThrow();

    // Sent without the CLI (a signal from the UI): the extract refuses it on its first attempt.
    const bad = await withTimeout(runDump(h, table, { requestId: 'bad', businessDate: D1, keys: { table: 'badkey', rows: [{ id: '1.5' }] } }), 30_000, () => 'the dump retried');
    expect(bad.status).toMatchObject({ state: 'failed', error: expect.stringContaining('value "1.5" of key column "id" does not convert exactly to integer') });
    const attempts = await activityAttempts(h.client, `${backfillWorkflowId(table.dataset, 'bad')}/badkey`);
    expect(attempts.extractSource).toEqual([1]);

    // Configured as text over an integer column: PostgreSQL refuses the value, and that is not retried either.
    const text = pgTable('textkey', 3, { keys: [{ name: 'id', type: 'varchar' }] });
    const refused = await withTimeout(runDump(h, text, { requestId: 'refused', businessDate: D1, keys: { table: 'textkey', rows: [{ id: 'abc' }] } }), 30_000, () => 'the dump retried');
    expect(refused.status).toMatchObject({ state: 'failed', error: expect.stringContaining('invalid input syntax for type integer: "abc"') });
    expect((await activityAttempts(h.client, `${backfillWorkflowId(text.dataset, 'refused')}/textkey`)).extractSource).toEqual([1]);
    // The queue went on: a good dump of the dataset completes.
    expect((await runDump(h, text, { requestId: 'good', businessDate: D1, keys: { table: 'textkey', rows: [{ id: '2' }] } })).status.state).toBe('completed');
  });

  it('a keys-only dump of a key read from PostgreSQL text in a format is refused at once, before anything is committed', async () => {
    // Before, PostgreSQL compared the text "02/01/2024" with the key's ISO value: the key was not found, and was committed as D.
    await expectTextKeysRefused({
      name: 'dated',
      key: { name: 'day', type: 'date', format: '%d/%m/%Y' },
      sourceKeys: ['02/01/2024', '03/01/2024'],
      requested: '2024-01-02',
      message: 'a keys-only dump cannot find keys of column "day": PostgreSQL holds it as text (read in format %d/%m/%Y) and compares that text, not the date; dump the whole table',
    });
  });

  it('a keys-only dump of a key PostgreSQL holds as text but the config types otherwise is refused at once, before anything is committed', async () => {
    // Before, PostgreSQL compared its text "05" with the requested 5: the key (5 in the committed state) was not found, and was committed as D.
    await expectTextKeysRefused({
      name: 'coded',
      key: { name: 'id', type: 'bigint' },
      sourceKeys: ['05', '7'],
      requested: '5',
      message: 'a keys-only dump cannot find keys of column "id": PostgreSQL holds it as text and compares that text, not the bigint; dump the whole table',
    });
  });

  it("a keys-only dump finds an instant key given without an offset as UTC, as cdcflow reads it, whatever the database session's time zone", async () => {
    // Before, PostgreSQL read "2024-01-01 10:00:00" in the session's zone (Paris: 09:00 UTC), or as
    // a local time where the config reads it in Paris, found no row, and the key was committed as D.
    const variable = 'CDCFLOW_TEST_PG_URL_PARIS';
    process.env[variable] = withOptions('-c TimeZone=Europe/Paris');
    try {
      psql(`CREATE TABLE bf.instants (at timestamptz PRIMARY KEY, v text); INSERT INTO bf.instants VALUES ('2024-01-01 10:00:00+00', 'a'), ('2024-01-01 11:00:00+00', 'b');
        CREATE TABLE bf.paris_times (at timestamp PRIMARY KEY, v text); INSERT INTO bf.paris_times VALUES ('2024-01-01 11:00:00', 'a'), ('2024-01-01 12:00:00', 'b');`);
      const table = (name: string, key: object, source: string) => ({
        name,
        keys: [{ name: 'at', ...key }],
        columns: [{ name: 'v', type: 'varchar' }],
        source: { format: 'postgres', connection: variable, table: source },
      });
      const config = folders.setup([
        table('instant', { type: 'timestamptz' }, 'bf.instants'),
        // Its UTC time: a timestamp read from a timestamptz.
        table('utc_time', { type: 'timestamp' }, 'bf.instants'),
        // A local time in Paris, read as an instant.
        table('paris_time', { type: 'timestamptz', timeZone: 'Europe/Paris' }, 'bf.paris_times'),
      ]).config;
      await runDataset(h, config, D1);
      psql(`UPDATE bf.instants SET v = 'new' WHERE at = '2024-01-01 10:00:00+00'; UPDATE bf.paris_times SET v = 'new' WHERE at = '2024-01-01 11:00:00';`);
      for (const name of ['instant', 'utc_time', 'paris_time']) {
        const { run } = await runDump(h, config, { requestId: name, businessDate: D2, keys: { table: name, rows: [{ at: '2024-01-01 10:00:00' }] } });
        const result = tableResult({ ok: true, result: run! }, name);
        expect(result.counts).toMatchObject({ I: 0, U: 1, D: 0, N: 1 });
        expect((await readRows(h.engine, result.currentPath, '"at"', ['KEY_HASH', 'NONKEY_HASH', 'EFF_START_DATE', 'OPERATION'])).map((r) => r.v)).toEqual(['new', 'b']);
      }
    } finally {
      delete process.env[variable];
    }
  });

  it('a dump requested while a run of the dataset is in progress waits for it, then runs', async () => {
    const config = pgTable('during', 10);
    const { atWrite, release } = holdNextWrite();
    const { handle } = await startDatasetRun(h.client, h.settings, { config, businessDate: D1 });
    await atWrite;

    await requestDump(h, config, { requestId: 'after-run', businessDate: D2 });
    await waitForDump(h, config.dataset, 'after-run', (d) => d.state === 'queued');
    await sleep(1500);
    expect(await queueStatus(h, config.dataset)).toMatchObject({ active: datasetWorkflowId(config.dataset, D1), waiting: ['after-run'] });
    expect((await dumpStatus(h, config.dataset, 'after-run'))?.state).toBe('queued');

    release();
    await handle.result();
    const done = await waitForDump(h, config.dataset, 'after-run', dumpFinished);
    expect(done.state).toBe('completed');
    // The run gives its turn back once its tables are done: the dump starts after their commits.
    const tableClosed = (await h.client.workflow.getHandle(tableWorkflowId(config.dataset, D1, 'during')).describe()).closeTime!;
    const dumpStarted = (await h.client.workflow.getHandle(done.workflowId).describe()).startTime;
    expect(dumpStarted.getTime()).toBeGreaterThanOrEqual(tableClosed.getTime());
    expect(await committedDates(h.engine, config.warehouse, config.dataset, 'during')).toEqual([D1, D2]);
  });

  it('a run terminated while it holds the turn: the next run of the same date gets the turn and completes', async () => {
    const config = pgTable('terminated', 5);
    const { atWrite, release } = holdNextWrite();
    const first = await startDatasetRun(h.client, h.settings, { config, businessDate: D1 });
    await atWrite;
    await first.handle.terminate('abandoned by the test');
    release();
    // Same workflow ID, another run: asks for the turn while the terminated one still holds it.
    const again = await runDataset(h, config, D1);
    expect(tableResult(again, 'terminated').counts).toMatchObject({ I: 5 });
  });

  it("the dataset's queue ended while a run waits for its turn: the run asks the next queue and completes", async () => {
    const config = pgTable('queue_ended', 5);
    const { atWrite, release } = holdNextWrite();
    const first = await startDatasetRun(h.client, h.settings, { config, businessDate: D1 });
    await atWrite;
    const second = await startDatasetRun(h.client, h.settings, { config, businessDate: D2 });
    for (let waited = 0; !(await queueStatus(h, config.dataset)).waiting.includes(second.handle.workflowId); waited += 100) {
      if (waited > 30_000) throw new Error('the second run did not queue for its turn within 30 s');
      await sleep(100);
    }
    // As the README tells an operator to end a queue (to move it to another task queue, say).
    await h.client.workflow.getHandle(datasetQueueWorkflowId(config.dataset)).terminate('ended by the operator');
    release();
    expect(tableResult({ ok: true, result: await first.handle.result() }, 'queue_ended').counts).toMatchObject({ I: 5 });
    // The old code waited for a grant from the ended queue for good (and a schedule skipped every later run meanwhile).
    const result = await withTimeout(second.handle.result(), 60_000, () => 'the waiting run did not complete within 60 s of its queue ending');
    expect(result.tables[0]).toMatchObject({ status: 'completed', result: { counts: { N: 5 } } });
    expect(await committedDates(h.engine, config.warehouse, config.dataset, 'queue_ended')).toEqual([D1, D2]);
  });

  it('a dump cancelled while its write is under way commits nothing, and says so', async () => {
    const config = pgTable('cancel_write', 6);
    const { atCommit, release } = holdNextCommit();
    await requestDump(h, config, { requestId: 'late-cancel', businessDate: D1 });
    await atCommit;
    await signalDatasetQueue(h.client, h.settings.taskQueue, config.dataset, cancelSignal, [{ requestId: 'late-cancel' }]);
    expect((await waitForDump(h, config.dataset, 'late-cancel', dumpFinished)).state).toBe('cancelled');
    // The write's heartbeats bring it the cancellation while it is held before its commit.
    await sleep(2000);
    release();
    await sleep(3000);
    // The old code committed the date after the dump had ended cancelled, and after the queue had moved on.
    expect(await committedDates(h.engine, config.warehouse, config.dataset, 'cancel_write')).toEqual([]);
  });

  it('pause holds a dump (queued, or running at its next chunk), resume goes on, cancel stops it with nothing committed', async () => {
    const config = pgTable('pause', 40);
    const dumpTable = (requestId: string) => `${backfillWorkflowId(config.dataset, requestId)}/pause`;

    // Paused: a dump requested now stays queued; cancelled while queued, it never starts.
    await signal(config, pauseSignal);
    await requestDump(h, config, { requestId: 'queued', businessDate: D1 });
    await sleep(1000);
    expect(await dumpStatus(h, config.dataset, 'queued')).toMatchObject({ state: 'queued', tables: {} });
    await signalDatasetQueue(h.client, h.settings.taskQueue, config.dataset, cancelSignal, [{ requestId: 'queued' }]);
    expect((await waitForDump(h, config.dataset, 'queued', dumpFinished)).state).toBe('cancelled');
    await expect(h.client.workflow.getHandle(dumpTable('queued')).describe()).rejects.toThrow();
    await signal(config, resumeSignal);

    /** Starts a dump held at its first read by a table lock, pauses it, and lets it read: it stops at a chunk. */
    async function pausedMidDump(requestId: string): Promise<number> {
      const lock = await lockTable('bf.pause');
      await requestDump(h, config, { requestId, businessDate: D1 });
      await waitForRunningActivity(h.client, dumpTable(requestId), 'extractSource');
      await signal(config, pauseSignal);
      await lock.release();
      await sleep(1500);
      const held = (await dumpStatus(h, config.dataset, requestId))!;
      await sleep(2000);
      expect(await dumpStatus(h, config.dataset, requestId)).toEqual(held);
      expect(held.state).toBe('running');
      const chunks = held.tables.pause?.chunks ?? 0;
      expect(chunks).toBeLessThan(10);
      return chunks;
    }

    await pausedMidDump('paused');
    await signal(config, resumeSignal);
    const resumed = await waitForDump(h, config.dataset, 'paused', dumpFinished);
    expect(resumed).toMatchObject({ state: 'completed', tables: { pause: { phase: 'done', chunks: 10, rows: 40 } } });
    const layout = tableLayout(config.warehouse, config.dataset, 'pause');
    const published = () => [readFileSync(layout.current), readFileSync(layout.history(D1))];
    const before = published();

    psql(`UPDATE bf.pause SET v = 'changed' WHERE id = 1;`);
    await pausedMidDump('cancelled');
    await signalDatasetQueue(h.client, h.settings.taskQueue, config.dataset, cancelSignal, [{}]);
    expect((await waitForDump(h, config.dataset, 'cancelled', dumpFinished)).state).toBe('cancelled');
    await signal(config, resumeSignal);
    expect(await committedDates(h.engine, config.warehouse, config.dataset, 'pause')).toEqual([D1]);
    expect(published()).toEqual(before);
  });

  it('the same request sent twice is one dump; another request of the same dump commits nothing new', async () => {
    const config = pgTable('twice', 12);
    const first = await runDump(h, config, { requestId: 'once', businessDate: D1 });
    expect(tableResult({ ok: true, result: first.run! }, 'twice').counts).toMatchObject({ I: 12 });
    const { runId } = await h.client.workflow.getHandle(first.status.workflowId).describe();
    const layout = tableLayout(config.warehouse, config.dataset, 'twice');
    const before = [readFileSync(layout.current), readFileSync(layout.history(D1))];

    await requestDump(h, config, { requestId: 'once', businessDate: D1 });
    await requestDump(h, config, { requestId: 'once', businessDate: D1 });
    await sleep(1000);
    const status = await queueStatus(h, config.dataset);
    expect(status.dumps.filter((d) => d.requestId === 'once')).toHaveLength(1);
    expect(status.waiting).toEqual([]);
    expect((await h.client.workflow.getHandle(first.status.workflowId).describe()).runId).toBe(runId);

    const second = await runDump(h, config, { requestId: 'again', businessDate: D1 });
    expect(tableResult({ ok: true, result: second.run! }, 'twice').counts).toEqual(tableResult({ ok: true, result: first.run! }, 'twice').counts);
    expect([readFileSync(layout.current), readFileSync(layout.history(D1))]).toEqual(before);
    expect(await committedDates(h.engine, config.warehouse, config.dataset, 'twice')).toEqual([D1]);
  });

  it('retry of a date whose failed table a dump has since committed: nothing to retry, the dump\'s deletes stay', async () => {
    const config = pgTable('retrydump', 6, { mode: 'delta', source: { format: 'postgres', connection: PG_URL_VAR, table: 'bf.retrydump', chunkRows: 4, watermark: { column: 'updated_at' } } });
    const file = path.join(path.dirname(config.warehouse), 'dataset.yaml');
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue };
    expect(tableResult(await runDataset(h, config, D1), 'retrydump').counts).toMatchObject({ I: 6 });
    psql(`ALTER TABLE bf.retrydump RENAME COLUMN v TO w;`);
    expect(await runDataset(h, config, D2)).toMatchObject({ ok: false });

    // The operator repairs the date with a dump: the source is whole again, less one row.
    psql(`ALTER TABLE bf.retrydump RENAME COLUMN w TO v; DELETE FROM bf.retrydump WHERE id = 3;`);
    const { run } = await runDump(h, config, { requestId: 'repair', businessDate: D2, tables: ['retrydump'] });
    expect(tableResult({ ok: true, result: run! }, 'retrydump').counts).toEqual({ I: 0, U: 0, D: 1, X: 0, N: 5 });
    const layout = tableLayout(config.warehouse, config.dataset, 'retrydump');
    const published = () => [readFileSync(layout.current), readFileSync(layout.history(D2))];
    const repaired = published();

    // status lists the dump's runs under the date they committed (the visibility store may lag a moment).
    const dumpTable = backfillTableWorkflowId(config.dataset, 'repair', 'retrydump');
    let runs: RunRow[] = [];
    for (let i = 0; i < 40 && !runs.some((r) => r.workflowId === dumpTable && r.counts); i++) {
      if (i) await sleep(250);
      runs = JSON.parse((await cdcflow(['status', '--config', file, '--days', '1', '--json'], env)).stdout).runs;
    }
    const ofD2 = runs.filter((r) => r.businessDate === D2).map((r) => [r.workflowId, r.state, r.counts?.deletes]);
    expect(ofD2).toEqual([
      [dumpTable, 'COMPLETED', 1],
      [backfillWorkflowId(config.dataset, 'repair'), 'COMPLETED', 1],
      [tableWorkflowId(config.dataset, D2, 'retrydump'), 'FAILED', undefined],
      [datasetWorkflowId(config.dataset, D2), 'FAILED', 0],
    ]);
    expect(runs.filter((r) => !r.businessDate)).toEqual([]);

    // A delta re-run of the date would replace the dump's commit and bring row 3 back.
    const retried = await cdcflow(['retry', '--config', file, '--date', D2], env);
    expect(retried).toMatchObject({ code: 0, stdout: `nothing to retry: no table of ${config.dataset} failed on ${D2}\n` });
    expect(published()).toEqual(repaired);
    expect((await readRows(h.engine, layout.current, 'id')).map((r) => r.id)).toEqual([1, 2, 4, 5, 6]);
  });

  it("a dump refuses a table read from files of one date's changes (delta): as a full run, its file would delete every key it lacks", async () => {
    const { dir, config } = folders.setup([
      { name: 'filedelta', mode: 'delta', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: '{date}.csv' } },
    ]);
    writeCsv(path.join(dir, `${D1}.csv`), ['id', 'v'], [[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']]);
    writeCsv(path.join(dir, `${D2}.csv`), ['id', 'v'], [[1, 'A'], [2, 'B'], [3, 'C']]);
    expect(tableResult(await runDataset(h, config, D1), 'filedelta').counts).toMatchObject({ I: 4 });
    const layout = tableLayout(config.warehouse, config.dataset, 'filedelta');
    const before = readFileSync(layout.current);
    const refusal = `backfill of dataset ${config.dataset}: table(s) filedelta read files of one date's changes (mode delta), not the whole table`;

    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue };
    const cli = await cdcflow(['backfill', '--config', path.join(dir, 'dataset.yaml'), '--date', D2], env);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(refusal);

    // Sent as a signal (the UI), the dump fails at once.
    const dump = await runDump(h, config, { requestId: 'filedelta', businessDate: D2 });
    expect(dump.status).toMatchObject({ state: 'failed', error: expect.stringContaining(refusal) });
    expect(await committedDates(h.engine, config.warehouse, config.dataset, 'filedelta')).toEqual([D1]);
    expect(readFileSync(layout.current)).toEqual(before);
  });

  it('a request ID already naming another dump is refused by the CLI, naming that dump; the same command sent again is the same dump', async () => {
    const config = pgTable('reused', 6);
    const file = path.join(path.dirname(config.warehouse), 'dataset.yaml');
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue };
    const backfill = (...args: string[]) => cdcflow(['backfill', '--config', file, '--date', D1, ...args], env);
    const first = await backfill('--request-id', 'fix-1');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^reused\s+full\s+6\s/m);
    const again = await backfill('--request-id', 'fix-1');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^reused\s+full\s+6\s/m);

    // Another scope, or other keys under the same count, is another request: the CLI said the old one's counts and exit 0.
    psql(`UPDATE bf.reused SET v = 'new' WHERE id IN (2, 3);`);
    const keys = await backfill('--request-id', 'fix-1', '--tables', 'reused', '--key', 'id=2');
    expect(keys.code).toBe(1);
    expect(keys.stderr).toContain(`request fix-1 of ${config.dataset} is already the dump of all tables for ${D1} (completed): give this one another --request-id`);
    expect((await backfill('--request-id', 'k', '--tables', 'reused', '--key', 'id=2')).code).toBe(0);
    const otherKey = await backfill('--request-id', 'k', '--tables', 'reused', '--key', 'id=3');
    expect(otherKey.code).toBe(1);
    expect(otherKey.stderr).toContain(`request k of ${config.dataset} is already the dump of 1 key(s) of reused for ${D1} (completed)`);
    expect((await readRows(h.engine, tableLayout(config.warehouse, config.dataset, 'reused').current, 'id')).map((r) => r.v)).toEqual(['v1', 'new', 'v3', 'v4', 'v5', 'v6']);
  });

  it('a date that does not exist (2024-02-30), in a dump\'s signal or a run started without the CLI, fails at once, not after minutes of retries', async () => {
    const config = pgTable('baddate', 3);
    const dump = await withTimeout(runDump(h, config, { requestId: 'feb30', businessDate: '2024-02-30' }), 30_000, () => 'the dump retried');
    expect(dump.status).toMatchObject({ state: 'failed', error: `backfill of dataset ${config.dataset}: businessDate "2024-02-30" is not a date (YYYY-MM-DD)` });
    const run = await withTimeout(runDataset(h, config, '2024-02-30'), 30_000, () => 'the run retried');
    expect(run).toMatchObject({ ok: false, error: expect.stringContaining(`dataset ${config.dataset}: business date "2024-02-30" is not a date (YYYY-MM-DD)`) });
    expect(await committedDates(h.engine, config.warehouse, config.dataset, 'baddate')).toEqual([]);
  });

  it('backfill --cancel ID of a dump the queue does not have, or of one already finished, says so and fails', async () => {
    const config = pgTable('cancelcli', 3);
    const file = path.join(path.dirname(config.warehouse), 'dataset.yaml');
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue };
    expect((await runDump(h, config, { requestId: 'done', businessDate: D1 })).status.state).toBe('completed');
    const unknown = await cdcflow(['backfill', '--config', file, '--cancel', 'nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`the queue of ${config.dataset} has no dump nope (dumps: done)`);
    const finished = await cdcflow(['backfill', '--config', file, '--cancel', 'done'], env);
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain(`dump done of ${config.dataset} is completed already: nothing to cancel`);
  });

  it('delta runs by watermark read only the rows changed since the watermark committed with their base', async () => {
    const config = pgTable('delta', 10, { mode: 'delta', source: { format: 'postgres', connection: PG_URL_VAR, table: 'bf.delta', chunkRows: 4, watermark: { column: 'updated_at' } } });
    const watermarks = () =>
      withCatalog(h.engine, config.warehouse, async (s, alias) => (await readCommitLog(s, lakeTables(alias, config.dataset, 'delta'))).map((c) => c.watermark));
    expect(tableResult(await runDataset(h, config, D1), 'delta').counts).toMatchObject({ I: 10 });
    expect(await watermarks()).toEqual(['2024-01-01 00:00:10']);

    psql(`UPDATE bf.delta SET v = 'new', updated_at = TIMESTAMP '2024-01-02 08:00:00' WHERE id IN (3, 7);`);
    // Unchanged rows are not read: a delta reports them as not supplied (X), not unchanged (N).
    expect(tableResult(await runDataset(h, config, D2), 'delta').counts).toEqual({ I: 0, U: 2, D: 0, X: 8, N: 0 });
    expect(await watermarks()).toEqual(['2024-01-01 00:00:10', '2024-01-02 08:00:00']);

    // Running D2 again reads from D1's watermark (its base's), so it gives the same result.
    psql(`INSERT INTO bf.delta VALUES (11, 'v11', TIMESTAMP '2024-01-03 09:00:00');`);
    expect(tableResult(await runDataset(h, config, D3), 'delta').counts).toEqual({ I: 1, U: 0, D: 0, X: 10, N: 0 });
    expect(tableResult(await runDataset(h, config, D3), 'delta').counts).toEqual({ I: 1, U: 0, D: 0, X: 10, N: 0 });
  });

  it('a keys-only dump keeps its base\'s watermark: the next delta still reads the other keys changed before it', async () => {
    const config = pgTable('keywm', 10, { mode: 'delta', source: { format: 'postgres', connection: PG_URL_VAR, table: 'bf.keywm', chunkRows: 4, watermark: { column: 'updated_at' } } });
    const watermarks = () =>
      withCatalog(h.engine, config.warehouse, async (s, alias) => (await readCommitLog(s, lakeTables(alias, config.dataset, 'keywm'))).map((c) => c.watermark));
    expect(tableResult(await runDataset(h, config, D1), 'keywm').counts).toMatchObject({ I: 10 });

    psql(`UPDATE bf.keywm SET v = 'other', updated_at = TIMESTAMP '2024-01-02 08:00:00' WHERE id = 5;
      UPDATE bf.keywm SET v = 'asked', updated_at = TIMESTAMP '2024-01-02 09:00:00' WHERE id = 2;`);
    const { run } = await runDump(h, config, { requestId: 'keywm', businessDate: D2, keys: { table: 'keywm', rows: [{ id: '2' }] } });
    expect(tableResult({ ok: true, result: run! }, 'keywm').counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 9 });
    // The dump read key 2 only: taking the table's maximum would skip row 5's change for good.
    expect(await watermarks()).toEqual(['2024-01-01 00:00:10', '2024-01-01 00:00:10']);

    const d3 = tableResult(await runDataset(h, config, D3), 'keywm');
    expect(d3.counts).toEqual({ I: 0, U: 1, D: 0, X: 8, N: 1 });
    expect(await readRows(h.engine, d3.historyPath, 'id', ['KEY_HASH', 'NONKEY_HASH', 'updated_at'])).toEqual([expect.objectContaining({ id: 5, v: 'other', OPERATION: 'U' })]);
    expect((await watermarks())[2]).toBe('2024-01-02 09:00:00');
  });

  it('a delta whose watermark column changed reads everything once, so a change the new column does not show is not missed', async () => {
    const columns = [
      { name: 'v', type: 'varchar' },
      { name: 'updated_at', type: 'timestamp' },
      { name: 'created_at', type: 'timestamp' },
    ];
    const source = { format: 'postgres', connection: PG_URL_VAR, table: 'bf.rewatch', chunkRows: 4, watermark: { column: 'updated_at' } };
    const config = pgTable('rewatch', 10, { mode: 'delta', columns, source });
    psql(`ALTER TABLE bf.rewatch ADD COLUMN created_at timestamp DEFAULT TIMESTAMP '2024-01-01 00:00:00';`);
    expect(tableResult(await runDataset(h, config, D1), 'rewatch').counts).toMatchObject({ I: 10 });

    // Row 3 changes; its created_at stays below D1's watermark, a value of updated_at.
    psql(`UPDATE bf.rewatch SET v = 'new', updated_at = TIMESTAMP '2024-01-02 08:00:00' WHERE id = 3;`);
    const byCreation: DatasetConfig = {
      ...config,
      tables: config.tables.map((t) => (t.source.format === 'postgres' ? { ...t, source: { ...t.source, watermark: 'created_at' } } : t)),
    };
    expect(tableResult(await runDataset(h, byCreation, D2), 'rewatch').counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 9 });
    // Each commit's snapshot tag says which column its watermark is a value of.
    const tags = await withCatalog(h.engine, config.warehouse, async (s, _alias, metadata) => tableSnapshots(await commitSnapshots(s, metadata), config.dataset, 'rewatch'));
    expect(tags.map(({ tag }) => [tag.watermark, tag.watermarkColumn])).toEqual([
      ['2024-01-01 00:00:10', 'updated_at'],
      ['2024-01-01 00:00:00', 'created_at'],
    ]);
  });

  it('a delta with a lookback reads the change of a transaction still open when the watermark was taken', async () => {
    const source = (lookback: string | number) => ({ format: 'postgres', connection: PG_URL_VAR, table: 'bf.late', chunkRows: 4, watermark: { column: 'updated_at', lookback } });
    const config = pgTable('late', 10, { mode: 'delta', source: source('5 seconds') });
    const watermarks = () =>
      withCatalog(h.engine, config.warehouse, async (s, alias) => (await readCommitLog(s, lakeTables(alias, config.dataset, 'late'))).map((c) => c.watermark));
    expect(tableResult(await runDataset(h, config, D1), 'late').counts).toMatchObject({ I: 10 });
    // The next delta reads above the maximum (00:00:10) less the lookback.
    expect(await watermarks()).toEqual(['2024-01-01 00:00:05']);

    // Row 2 changes in a transaction still open while D2 runs; row 3's change, stamped later, is committed.
    const open = await openTransaction(`UPDATE bf.late SET v = 'late', updated_at = TIMESTAMP '2024-01-02 08:00:00' WHERE id = 2`);
    psql(`UPDATE bf.late SET v = 'new', updated_at = TIMESTAMP '2024-01-02 08:00:03' WHERE id = 3`);
    // Rows 6 to 10 lie in the window and are read again, unchanged.
    expect(tableResult(await runDataset(h, config, D2), 'late').counts).toEqual({ I: 0, U: 1, D: 0, X: 4, N: 5 });
    expect((await watermarks())[1]).toBe('2024-01-02 07:59:58');
    await open.commit();

    // Row 2's watermark lies below D2's maximum: without the lookback no delta would read it again.
    const d3 = tableResult(await runDataset(h, config, D3), 'late');
    expect(d3.counts).toEqual({ I: 0, U: 1, D: 0, X: 8, N: 1 });
    expect(await readRows(h.engine, d3.historyPath, 'id', ['KEY_HASH', 'NONKEY_HASH', 'updated_at'])).toEqual([expect.objectContaining({ id: 2, v: 'late', OPERATION: 'U' })]);

    // A lookback that does not fit the column's type is refused as such, and nothing is committed.
    const columns = [
      { name: 'v', type: 'varchar' },
      { name: 'updated_at', type: 'timestamp' },
    ];
    const refused = async (watermark: object) => {
      const wrong = folders.setup([{ name: 'late', mode: 'delta', keys: [{ name: 'id', type: 'integer' }], columns, source: { ...source(5), watermark } }]).config;
      return failedTable(await runDataset(h, wrong, D1), 'late');
    };
    expect(await refused({ column: 'updated_at', lookback: 5 })).toMatch(/PostgreSQL refused the watermark query .*operator does not exist: timestamp without time zone - integer/);
    // So is a watermark column the source lacks (it was retried as a transient failure).
    expect(await refused({ column: 'changed_at' })).toMatch(/PostgreSQL refused the watermark query .*column "changed_at" does not exist/);
  });
});

/**
 * S3 as a user meets it: DuckLake's data files on a local S3 (moto) through `cdcflow worker`
 * processes that take their credentials from the environment. A setting S3 refuses (no such
 * bucket, credentials it does not know) fails the run at once, naming what to check, commits
 * nothing, and no credential shows in the failure, the run's histories or the worker's log; an
 * endpoint that is down, or a store gone silent (for CDCFLOW_S3_TIMEOUT_SECONDS), is retried, and
 * the run completes once it is up. A
 * config that names an s3:// warehouse or sink (or a source URL other than s3://) is refused, not
 * resolved to a local folder named `s3:` (s3:// sources: s3-sources.test.ts). Two warehouses at one path (two deployments of one image) cannot share a
 * data folder, where a vacuum of one would delete the other's data files. Needs dist/ (the test script builds it).
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import * as path from 'node:path';
import { stringify } from 'yaml';
import type { DatasetConfig } from '../../src/config/types';
import { Engine } from '../../src/engine/duckdb';
import { engineSettings } from '../../src/settings';
import { datasetWorkflowId, tableWorkflowId } from '../../src/workflows/ids';
import { cdcflow } from '../support/cli';
import { freePort } from '../support/free-port';
import { committedDates, type Harness, runDataset, startHarness, succeeded, tempDir, uniqueDataset, writeConfig, writeCsv } from '../support/harness';
import { type S3TestServer, startS3Server } from '../support/s3-server';
import { activityAttempts, killAllWorkers, sleep, spawnWorker, withTimeout } from '../support/worker-process';

const DATE = '2024-01-01';

let h: Harness;
let s3: S3TestServer;
let dir: string;

beforeAll(async () => {
  [h, s3] = await Promise.all([startHarness(), startS3Server()]);
  dir = tempDir('cdcflow-s3-');
});
afterAll(async () => {
  await killAllWorkers();
  await Promise.all([h?.stop(), s3?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** A one-table dataset with one day of input. */
function dataset(name: string): DatasetConfig {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeCsv(path.join(folder, 't.csv'), ['id', 'v'], [[1, 'a'], [2, 'b']]);
  const table = { name: 't', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: 't.csv' } };
  return writeConfig(folder, { dataset: name, warehouse: 'wh', tables: [table] });
}

/** Every string in a value, and the text of every byte array in it (history payloads). */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value && typeof value === 'object') return Object.values(value).map(textOf).join('\n');
  return '';
}

/** The dataset run's and the table run's histories as text. */
async function historiesText(config: DatasetConfig): Promise<string> {
  const ids = [datasetWorkflowId(config.dataset, DATE), tableWorkflowId(config.dataset, DATE, 't')];
  const histories = await Promise.all(ids.map((id) => h.client.workflow.getHandle(id).fetchHistory()));
  return histories.map(textOf).join('\n');
}

/**
 * Runs the dataset on a `cdcflow worker` with `env`; the table must fail within 60 s (a retried
 * failure takes minutes). Returns the run's error, the table's activity attempts and the worker's log.
 */
async function failingRun(config: DatasetConfig, env: Record<string, string>) {
  const queue = `s3-${config.dataset}`;
  const worker = await spawnWorker(queue, path.join(dir, `tmp-${config.dataset}`), { env });
  const outcome = await withTimeout(runDataset({ client: h.client, settings: { ...h.settings, taskQueue: queue } }, config, DATE), 60_000, () => `the run did not fail within 60 s (retried?):\n${worker.output()}`);
  const table = outcome.result?.tables.find((t) => t.table === 't');
  if (table?.status !== 'failed') throw new Error(`table t did not fail: ${JSON.stringify(outcome)}`);
  const attempts = await activityAttempts(h.client, tableWorkflowId(config.dataset, DATE, 't'));
  return { error: table.error, attempts, log: worker.output() };
}

/** The dates committed to the dataset's warehouse, read with the data path and good credentials. */
async function committed(config: DatasetConfig, dataPath: string): Promise<string[]> {
  const engine = await Engine.create({ ...engineSettings({ ...s3.env, CDCFLOW_DATA_PATH: dataPath }), tempDirectory: path.join(dir, 'tmp-check') });
  try {
    return await committedDates(engine, config.warehouse, config.dataset, 't');
  } finally {
    await engine.close();
  }
}

test('a data path in a bucket that does not exist fails at once, naming the bucket and CDCFLOW_DATA_PATH; nothing is committed', async () => {
  const config = dataset(uniqueDataset('nobucket'));
  const dataPath = 's3://no-such-bucket/lake';
  const { error, attempts } = await failingRun(config, { ...s3.env, CDCFLOW_DATA_PATH: dataPath });

  expect(error).toMatch(/the S3 bucket of s3:\/\/no-such-bucket\/lake\S* does not exist \(HTTP 404: NoSuchBucket: .*\); check CDCFLOW_DATA_PATH and CDCFLOW_S3_ENDPOINT/);
  expect(attempts.runTableStages).toEqual([1]);
  expect(existsSync(path.join(config.warehouse, config.dataset))).toBe(false);
}, 120_000);

test('credentials S3 refuses fail at once, naming the variables; the secret is in no message, history or worker log', async () => {
  const config = dataset(uniqueDataset('badkey'));
  const dataPath = `s3://${s3.bucket}/lake-${config.dataset}`;
  const secret = 'wJalrXUtnFEMI-not-a-real-secret-3f9a';
  const token = 'FwoGZXIvYXdz-not-a-real-token-81c2';
  await s3.checkCredentials(true);
  try {
    const { error, attempts, log } = await failingRun(config, { ...s3.env, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token, CDCFLOW_DATA_PATH: dataPath });

    expect(error).toMatch(/S3 refused access to \S+ \(HTTP 403: InvalidAccessKeyId: .*\); check the worker's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN/);
    expect(attempts.runTableStages).toEqual([1]);
    const seen = `${error}\n${await historiesText(config)}\n${log}`;
    expect(seen).not.toContain(secret);
    expect(seen).not.toContain(token);
  } finally {
    await s3.checkCredentials(false);
  }
  expect(await s3.keys(`lake-${config.dataset}/`)).toEqual([]);
  expect(await committed(config, dataPath)).toEqual([]);
}, 120_000);

test('an endpoint that is down is retried, saying so, and the run completes once it is up', async () => {
  const config = dataset(uniqueDataset('down'));
  const port = await freePort();
  const env = { ...s3.env, CDCFLOW_S3_ENDPOINT: `127.0.0.1:${port}`, CDCFLOW_DATA_PATH: `s3://${s3.bucket}/lake` };
  const queue = `s3-${config.dataset}`;
  await spawnWorker(queue, path.join(dir, `tmp-${queue}`), { env });
  const outcome = runDataset({ client: h.client, settings: { ...h.settings, taskQueue: queue } }, config, DATE);
  const table = h.client.workflow.getHandle(tableWorkflowId(config.dataset, DATE, 't'));
  let retrying;
  for (const deadline = Date.now() + 30_000; !retrying; await sleep(200)) {
    if (Date.now() > deadline) throw new Error('the table run was not retrying within 30 s');
    const pending = await table.describe().then((d) => d.raw.pendingActivities ?? [], () => []);
    retrying = pending.find((a) => (a.attempt ?? 0) >= 2);
  }
  expect(retrying.lastFailure?.message).toMatch(new RegExp(`^IO Error: Could not connect to server error for HTTP \\w+ to 'http://127\\.0\\.0\\.1:${port}/`));
  // The endpoint comes up: a port forwarded to the running server, whose bucket exists from the first byte.
  const [host, s3Port] = s3.endpoint.split(':');
  const open = new Set<Socket>();
  const forward = createServer((client) => {
    const server = connect(Number(s3Port), host);
    open.add(client).add(server);
    client.pipe(server).pipe(client);
    for (const end of [client, server]) end.on('error', () => [client, server].forEach((e) => e.destroy()));
  });
  await new Promise<void>((resolve) => forward.listen(port, '127.0.0.1', resolve));
  try {
    succeeded(await withTimeout(outcome, 90_000, () => 'the run did not complete within 90 s of the endpoint coming up'));
  } finally {
    // The worker may keep its connection alive: closing waits for none.
    for (const end of open) end.destroy();
    await new Promise((resolve) => forward.close(resolve));
  }
}, 180_000);

test('a store that stops answering under the data path: the attempt fails after CDCFLOW_S3_TIMEOUT_SECONDS naming it, is retried, and the run completes once it answers', async () => {
  // Before: DuckDB's own 30 s a try, 4 tries: two minutes an attempt, failing with `IO Error: Timeout was reached error for HTTP GET to '…'`.
  const config = dataset(uniqueDataset('frozen'));
  const queue = `s3-${config.dataset}`;
  await spawnWorker(queue, path.join(dir, `tmp-${queue}`), { env: { ...s3.env, CDCFLOW_DATA_PATH: `s3://${s3.bucket}/lake-${config.dataset}`, CDCFLOW_S3_TIMEOUT_SECONDS: '2' } });
  s3.signal('SIGSTOP');
  // The old attempt would wait two minutes: the safety resumes the store.
  const giveUp = setTimeout(() => s3.signal('SIGCONT'), 60_000);
  const started = Date.now();
  let retriedAfterMs = Infinity;
  try {
    const args = ['run', '--config', path.join(path.dirname(config.warehouse), 'dataset.yaml'), '--date', DATE];
    const out = await cdcflow(args, { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: queue }, (stderr) => {
      if (stderr.includes('retrying (attempt 2)') && retriedAfterMs === Infinity) {
        retriedAfterMs = Date.now() - started;
        s3.signal('SIGCONT');
      }
      return false;
    });
    expect(out.stderr).toContain(`retrying (attempt 2): S3 (${s3.endpoint}) did not answer for 2s (CDCFLOW_S3_TIMEOUT_SECONDS) while DuckDB sent HTTP `);
    expect(out.stderr).toMatch(new RegExp(`while DuckDB sent HTTP \\w+ http://${s3.endpoint}/${s3.bucket}/\\S+ \\(CDCFLOW_DATA_PATH\\): stopped, overloaded or cut off\\?`));
    expect(retriedAfterMs).toBeLessThan(40_000);
    expect(out.code).toBe(0);
  } finally {
    clearTimeout(giveUp);
    s3.signal('SIGCONT');
  }
}, 150_000);

test('CDCFLOW_S3_ENDPOINT with a scheme, CDCFLOW_S3_USE_SSL not a flag: the worker refuses to start, naming the variable', async () => {
  const refused: [Record<string, string>, RegExp][] = [
    [{ CDCFLOW_S3_ENDPOINT: `http://${s3.endpoint}` }, /CDCFLOW_S3_ENDPOINT must be host:port without a scheme/],
    [{ CDCFLOW_S3_USE_SSL: 'no' }, /CDCFLOW_S3_USE_SSL must be true or false, not "no"/],
  ];
  for (const [setting, message] of refused) {
    const env = { ...s3.env, CDCFLOW_DATA_PATH: `s3://${s3.bucket}/lake`, ...setting };
    await expect(spawnWorker(`s3-refused-${uniqueDataset('q')}`, path.join(dir, 'tmp-refused'), { env })).rejects.toThrow(
      new RegExp(`worker exited at startup[^]*${message.source}`),
    );
  }
});

test('an s3:// warehouse or sink path, or a source URL of another scheme, is refused by validate and run, not written to a local folder named s3:', async () => {
  const name = uniqueDataset('s3paths');
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeCsv(path.join(folder, 't.csv'), ['id', 'v'], [[1, 'a']]);
  const configPath = path.join(folder, 'dataset.yaml');
  const table = {
    name: 't',
    keys: [{ name: 'id', type: 'integer' }],
    columns: [{ name: 'v', type: 'varchar' }],
    source: { format: 'csv', path: `s3a://${s3.bucket}/in/{date}/t.csv` },
    sinks: [{ type: 'duckdb', path: `s3://${s3.bucket}/out/t.duckdb` }],
  };
  writeFileSync(configPath, stringify({ dataset: name, warehouse: `s3://${s3.bucket}/wh`, tables: [table] }));
  const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue };

  const validate = await cdcflow(['validate', configPath], env);
  expect(validate.code).toBe(1);
  const problem = (field: string, message: string) => new RegExp(`dataset.yaml:\\d+: ${field.replace(/[[\].]/g, '\\$&')}: ${message}`);
  for (const field of ['warehouse', 'tables[0].sinks[0].path']) {
    expect(validate.stdout + validate.stderr).toMatch(problem(field, 'must be a path on the file system, not a URL such as s3://'));
  }
  expect(validate.stdout + validate.stderr).toMatch(problem('tables[0].source.path', 'must be a path on the file system or an s3://bucket/key URL: s3:// is the one URL scheme supported'));
  const run = await cdcflow(['run', '--config', configPath, '--date', DATE], env);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain('must be a path on the file system, not a URL such as s3://');
  expect(existsSync(path.join(folder, 's3:'))).toBe(false);
  expect(existsSync(path.join(folder, 's3a:'))).toBe(false);
}, 120_000);

test('two warehouses at one path on one data path: the second is refused, and a vacuum of it cannot delete the first one\'s data files', async () => {
  // Two deployments of one config (staging, production): same warehouse path, same dataset, one CDCFLOW_DATA_PATH.
  const config = dataset(uniqueDataset('twins'));
  const dataPath = `s3://${s3.bucket}/shared-${config.dataset}`;
  const env = { ...s3.env, CDCFLOW_DATA_PATH: dataPath };
  // Each deployment its own worker (a worker keeps the catalog it attached).
  const deployment = async (name: string) => {
    const queue = `s3-${config.dataset}-${name}`;
    const worker = await spawnWorker(queue, path.join(dir, `tmp-${queue}`), { env });
    const settings = { ...h.settings, taskQueue: queue };
    return (date: string) => withTimeout(runDataset({ client: h.client, settings }, config, date), 60_000, () => `no result within 60 s:\n${worker.output()}`);
  };
  const [staging, production] = await Promise.all([deployment('staging'), deployment('production')]);
  succeeded(await production(DATE));
  const firstFiles = await s3.keys(`shared-${config.dataset}/`);
  expect(firstFiles.filter((k) => k.endsWith('.parquet')).length).toBeGreaterThan(0);

  // The staging warehouse at the same path (production's kept aside meanwhile).
  const first = `${config.warehouse}-first`;
  renameSync(config.warehouse, first);
  const second = await staging('2024-01-02');
  const failure = second.result?.tables.find((t) => t.table === 't');
  expect(failure?.status).toBe('failed');
  expect(failure?.status === 'failed' && failure.error).toMatch(
    /the data folder s3:\/\/\S+\/ belongs to another warehouse at \S+ \(s3:\/\/\S+\.json\): two warehouses at one path share a folder under one CDCFLOW_DATA_PATH/,
  );
  // Refused before it lists anything (the files here are too young for any cut-off vacuum takes anyway).
  const vacuum = await cdcflow(['vacuum', '--config', path.join(path.dirname(config.warehouse), 'dataset.yaml')], env);
  expect(vacuum.code).not.toBe(0);
  expect(vacuum.stderr).toContain('belongs to another warehouse');
  expect(await s3.keys(`shared-${config.dataset}/`)).toEqual(firstFiles);

  // Production goes on from its committed state.
  rmSync(config.warehouse, { recursive: true, force: true });
  renameSync(first, config.warehouse);
  writeCsv(path.join(path.dirname(config.warehouse), 't.csv'), ['id', 'v'], [[1, 'a'], [3, 'c']]);
  succeeded(await production('2024-01-02'));
  expect(await committed(config, dataPath)).toEqual([DATE, '2024-01-02']);
}, 180_000);

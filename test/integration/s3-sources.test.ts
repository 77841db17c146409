/**
 * File sources in S3 as a user meets them: `source.path: s3://bucket/exports/{date}/orders.csv`
 * read by a `cdcflow worker` with its credentials in the environment, against a local S3 (moto).
 * The batch commits what the same files commit from a local folder; an unchanged object is the
 * same batch and a replaced one is read again; a bucket that does not exist, credentials S3
 * refuses or none at all, and an archived object fail at once; a store not reached is retried,
 * naming it; errors name the s3:// URL, never the local copy; waitForFiles looks in
 * the bucket; a dated batch left out is refused.
 * Needs dist/ (the test script builds it).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DatasetConfig } from '../../src/config/types';
import type { TemporalSettings } from '../../src/settings';
import { DataError } from '../../src/errors';
import { downloadS3Object, listS3Objects } from '../../src/sources/s3-objects';
import { readLocalCopies } from '../../src/sources/source-copies';
import { tableLayout } from '../../src/warehouse/layout';
import { datasetWorkflowId, tableWorkflowId } from '../../src/workflows/ids';
import {
  committedDates,
  failedTable,
  type Harness,
  readRows,
  runDataset,
  startHarness,
  succeeded,
  tableResult,
  tempDir,
  uniqueDataset,
  writeConfig,
  writeLines,
} from '../support/harness';
import { cdcflow } from '../support/cli';
import { freePort } from '../support/free-port';
import { type S3TestServer, startS3Server } from '../support/s3-server';
import { activityAttempts, killAllWorkers, sleep, spawnWorker, withTimeout } from '../support/worker-process';

const [D1, D2, D3] = ['2024-01-01', '2024-01-02', '2024-01-03'];

let h: Harness;
let s3: S3TestServer;
let dir: string;
/** The task queue of a `cdcflow worker` with the S3 settings in its environment. */
let settings: TemporalSettings;
const savedEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
  [h, s3] = await Promise.all([startHarness(), startS3Server()]);
  dir = tempDir('cdcflow-s3-sources-');
  // For this process's own S3 client (the download test below); put back after.
  for (const name of Object.keys(s3.env)) savedEnv[name] = process.env[name];
  Object.assign(process.env, s3.env);
  settings = { ...h.settings, taskQueue: `s3-sources-${randomUUID()}` };
  await spawnWorker(settings.taskQueue, path.join(dir, 'tmp-worker'), { env: s3.env });
});
afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await killAllWorkers();
  await Promise.all([h?.stop(), s3?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const HEADER = 'id,v,amount';

/** A table of orders reading `sourcePath`. */
function ordersTable(name: string, mode: 'full' | 'delta', sourcePath: string) {
  return {
    name,
    mode,
    keys: [{ name: 'id', type: 'integer' }],
    columns: [
      { name: 'v', type: 'varchar' },
      { name: 'amount', type: 'integer' },
    ],
    source: { format: 'csv', path: sourcePath },
  };
}

/** A dataset of a full and a delta table, both reading `sourcePath`, in a folder of its own. */
function ordersDataset(prefix: string, sourcePath: string): DatasetConfig {
  const name = uniqueDataset(prefix);
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  return writeConfig(folder, { dataset: name, warehouse: 'wh', tables: [ordersTable('full_t', 'full', sourcePath), ordersTable('delta_t', 'delta', sourcePath)] });
}

/** A prefix in the bucket no other test uses, and its s3:// URL. */
function s3Folder(name: string): { key: string; url: string } {
  const key = `${name}-${randomUUID().slice(0, 8)}`;
  return { key, url: `s3://${s3.bucket}/${key}` };
}

const run = (config: DatasetConfig, date: string) =>
  withTimeout(runDataset({ client: h.client, settings }, config, date), 90_000, () => `the run of ${config.dataset} ${date} had no result within 90 s`);

/** The table's current rows, and with a date its history rows of that date. */
async function committedRows(config: DatasetConfig, table: string, date?: string) {
  const layout = tableLayout(config.warehouse, config.dataset, table);
  return readRows(h.engine, date ? layout.history(date) : layout.current, 'id');
}

const lines = (rows: string[]) => `${[HEADER, ...rows].join('\n')}\n`;

test('full and delta tables read from s3://…/{date}/ commit what the same local files commit; an unchanged object commits nothing new, a replaced one replaces its commit', async () => {
  const days: Record<string, string[]> = { [D1]: ['1,a,10', '2,b,20', '3,c,30'], [D2]: ['1,a,11', '3,c,30', '4,d,40'] };
  const local = ordersDataset('local', 'exports/{date}/orders.csv');
  const folder = s3Folder('exports');
  const remote = ordersDataset('remote', `${folder.url}/exports/{date}/orders.csv`);
  for (const [date, rows] of Object.entries(days)) {
    writeLines(path.join(path.dirname(local.warehouse), 'exports', date, 'orders.csv'), [HEADER, ...rows]);
    await s3.put(`${folder.key}/exports/${date}/orders.csv`, lines(rows));
  }

  for (const date of [D1, D2]) {
    const [fromLocal, fromS3] = [succeeded(await run(local, date)), succeeded(await run(remote, date))];
    for (const table of ['full_t', 'delta_t']) {
      expect(tableResult(fromS3, table).counts).toEqual(tableResult(fromLocal, table).counts);
      expect(await committedRows(remote, table)).toEqual(await committedRows(local, table));
      expect(await committedRows(remote, table, date)).toEqual(await committedRows(local, table, date));
    }
    if (date === D2) expect(tableResult(fromS3, 'full_t').counts).toMatchObject({ I: 1, U: 1, D: 1 });
  }

  // The latest date again, its object untouched: the same batch, nothing new committed.
  const again = succeeded(await run(remote, D2));
  for (const table of ['full_t', 'delta_t']) {
    expect(tableResult(again, table).skippedStages).toContain('write');
    expect(await committedDates(h.engine, remote.warehouse, remote.dataset, table)).toEqual([D1, D2]);
  }

  // The object replaced (a corrected export): read again, and the date's commit replaced.
  await s3.put(`${folder.key}/exports/${D2}/orders.csv`, lines(['1,a,12', '3,c,30', '4,d,40']));
  const corrected = succeeded(await run(remote, D2));
  for (const table of ['full_t', 'delta_t']) {
    expect(tableResult(corrected, table).skippedStages).not.toContain('write');
    expect(await committedDates(h.engine, remote.warehouse, remote.dataset, table)).toEqual([D1, D2]);
    expect((await committedRows(remote, table)).find((r) => r.id === 1)).toMatchObject({ v: 'a', amount: 12 });
  }
  // The downloaded copies are gone once the batch is hashed.
  expect(existsSync(tableLayout(remote.warehouse, remote.dataset, 'full_t').sourceCopies(D2))).toBe(false);
}, 300_000);

test('a source bucket that does not exist fails the table at once as a config error naming the URL; nothing is committed', async () => {
  const url = 's3://no-such-source-bucket/exports/{date}/orders.csv';
  const config = ordersDataset('nobucket', url);
  const outcome = await run(config, D1);
  // The delta table's plan lists every date's batch first (one of an earlier date would be left out).
  for (const [table, listed] of [['full_t', '2024-01-01'], ['delta_t', '\\*']]) {
    expect(failedTable(outcome, table)).toMatch(
      new RegExp(`^the S3 bucket of s3://no-such-source-bucket/exports/${listed}/orders\\.csv does not exist \\(HTTP 404: NoSuchBucket: .*\\); check the source path and CDCFLOW_S3_ENDPOINT`),
    );
    expect((await activityAttempts(h.client, tableWorkflowId(config.dataset, D1, table))).runTableStages).toEqual([1]);
  }
  expect(existsSync(path.join(config.warehouse, config.dataset))).toBe(false);
}, 120_000);

test('credentials S3 refuses fail the table at once, naming the URL and the variables to check', async () => {
  const folder = s3Folder('denied');
  const config = ordersDataset('denied', `${folder.url}/{date}/orders.csv`);
  await s3.put(`${folder.key}/${D1}/orders.csv`, lines(['1,a,10']));
  await s3.checkCredentials(true);
  try {
    const outcome = await run(config, D1);
    expect(failedTable(outcome, 'full_t')).toMatch(
      new RegExp(`^S3 refused access to ${folder.url}/${D1}/orders\\.csv \\(HTTP 403: InvalidAccessKeyId: .*\\); check the worker's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN`),
    );
    expect((await activityAttempts(h.client, tableWorkflowId(config.dataset, D1, 'full_t'))).runTableStages).toEqual([1]);
  } finally {
    await s3.checkCredentials(false);
  }
}, 120_000);

test('a value that does not cast, and an empty object, are named by their s3:// URL and line, not by the local copy', async () => {
  const folder = s3Folder('bad');
  const config = ordersDataset('bad', `${folder.url}/{date}/*.csv`);
  await s3.put(`${folder.key}/${D1}/orders.csv`, lines(['1,a,10', '2,b,twenty']));
  const outcome = await run(config, D1);
  const error = failedTable(outcome, 'full_t');
  expect(error).toContain(`file=${folder.url}/${D1}/orders.csv`);
  expect(error).toMatch(/line=3\b/);
  expect(error).toMatch(/"amount"/);
  expect(error).not.toContain('_work');

  await s3.put(`${folder.key}/${D1}/orders.csv`, lines(['1,a,10']));
  await s3.put(`${folder.key}/${D1}/more.csv`, '');
  expect(failedTable(await run(config, D1), 'full_t')).toMatch(
    new RegExp(`^the file is empty \\(0 bytes\\).*file=${folder.url.replace(/[.]/g, '\\.')}/${D1}/more\\.csv`),
  );
}, 180_000);

test('compressed objects: gzip (UTF-16 inside) is read; a name saying bzip2 fails naming the object, as a local file does', async () => {
  // Before, an object named .bz2 was read as text: `source is missing configured column(s) "id", "v", "amount"`.
  const folder = s3Folder('compressed');
  const name = uniqueDataset('compressed');
  mkdirSync(path.join(dir, name), { recursive: true });
  const table = { ...ordersTable('t', 'full', ''), source: { format: 'csv', path: `${folder.url}/{date}/orders.csv*`, csv: { encoding: 'utf-16' } } };
  const config = writeConfig(path.join(dir, name), { dataset: name, warehouse: 'wh', tables: [table] });
  await s3.put(`${folder.key}/${D1}/orders.csv.gz`, gzipSync(Buffer.from(`\uFEFF${lines(['1,Zoë,10'])}`, 'utf16le')));
  succeeded(await run(config, D1));
  expect(await committedRows(config, 't')).toMatchObject([{ id: 1, v: 'Zoë', amount: 10 }]);

  await s3.put(`${folder.key}/${D2}/orders.csv.bz2`, lines(['1,a,10']));
  expect(failedTable(await run(config, D2), 't')).toContain(
    `the file's name says it is compressed with bzip2, which cannot be read; gzip (.gz) and zstd (.zst) files can (dataset=${name} table=t file=${folder.url}/${D2}/orders.csv.bz2`,
  );
}, 180_000);

test('waitForFiles looks in the bucket: the run waits until the object appears, then reads it', async () => {
  const folder = s3Folder('late');
  const name = uniqueDataset('late');
  mkdirSync(path.join(dir, name), { recursive: true });
  const table = { ...ordersTable('t', 'full', `${folder.url}/{date}/orders.csv`), source: { format: 'csv', path: `${folder.url}/{date}/orders.csv`, waitForFiles: '60s' } };
  const config = writeConfig(path.join(dir, name), { dataset: name, warehouse: 'wh', tables: [table] });
  const outcome = run(config, D1);
  await sleep(3_000);
  await s3.put(`${folder.key}/${D1}/orders.csv`, lines(['1,a,10']));
  expect(tableResult(succeeded(await outcome), 't').counts).toMatchObject({ I: 1 });
}, 120_000);

test('a delta run on S3 with an earlier dated batch never committed is refused, naming the date and the object', async () => {
  const folder = s3Folder('leftout');
  const config = ordersDataset('leftout', `${folder.url}/{date}/orders.csv`);
  for (const date of [D1, D2, D3]) await s3.put(`${folder.key}/${date}/orders.csv`, lines([`1,a,${date.slice(-1)}`]));
  succeeded(await run(config, D1));
  const outcome = await run(config, D3);
  expect(failedTable(outcome, 'delta_t')).toContain(`the source has a batch for ${D2} (${folder.url}/${D2}/orders.csv), after the latest committed date before ${D3} (${D1})`);
  expect(tableResult(outcome, 'full_t').counts).toMatchObject({ U: 1 });
  expect(await committedDates(h.engine, config.warehouse, config.dataset, 'delta_t')).toEqual([D1]);
}, 180_000);

test('an object replaced after it was listed is not downloaded: a plain (retried) error, and nothing is left behind', async () => {
  const folder = s3Folder('replaced');
  await s3.put(`${folder.key}/orders.csv`, lines(['1,a,10']));
  const [listed] = await listS3Objects(`${folder.url}/*.csv`);
  expect(listed).toMatchObject({ url: `${folder.url}/orders.csv`, size: lines(['1,a,10']).length });
  await s3.put(`${folder.key}/orders.csv`, lines(['1,a,11']));
  const target = path.join(dir, 'copies', 'orders.csv');
  const failure = await downloadS3Object(listed, target).then(() => undefined, (err: Error) => err);
  expect(failure?.message).toBe(`${folder.url}/orders.csv was replaced since it was listed (ETag ${listed.etag}); the stage lists the files again`);
  expect(failure?.name).toBe('Error');
  expect(readdirSync(path.dirname(target))).toEqual([]);
});

test('Debezium events from S3: a bad line and a tie with the committed event name the s3:// URL and the line', async () => {
  const folder = s3Folder('dbz');
  const name = uniqueDataset('dbz');
  mkdirSync(path.join(dir, name), { recursive: true });
  const table = (table: string) => ({
    name: table,
    mode: 'changes',
    keys: [{ name: 'id', type: 'integer' }],
    columns: [{ name: 'email', type: 'varchar' }],
    orderBy: [{ name: 'source.ts_ms', type: 'bigint' }],
    source: { format: 'debezium', path: `${folder.url}/${table}/{date}/*.json` },
  });
  const config = writeConfig(path.join(dir, name), { dataset: name, warehouse: 'wh', tables: [table('by_time'), table('bad_json')] });
  const event = (op: string, ms: number, email: string) =>
    JSON.stringify({ before: null, after: { id: 1001, email }, source: { ts_ms: 1704067200000 + ms }, op, ts_ms: 1704067200100 + ms });
  const put = (table: string, date: string, events: string[]) => s3.put(`${folder.key}/${table}/${date}/part-0.json`, `${events.join('\n')}\n`);
  await put('by_time', D1, [event('c', 10, 'a1'), event('u', 20, 'a2')]);
  await put('by_time', D2, [event('u', 20, 'a2'), event('u', 20, 'a3')]);
  await put('bad_json', D1, [event('c', 10, 'a1'), '{"op":"c",']);

  const day1 = await run(config, D1);
  expect(tableResult(day1, 'by_time').counts).toMatchObject({ I: 1 });
  const badJson = failedTable(day1, 'bad_json');
  expect(badJson).toContain('event at line 2 is not valid JSON: "{\\"op\\":\\"c\\","');
  expect(badJson).toContain(`file=${folder.url}/bad_json/${D1}/part-0.json line=2`);

  // The tie is found by the diff, from the events the hash stage wrote: they keep the URL too.
  expect(failedTable(await run(config, D2), 'by_time')).toContain(
    `key (id=1001): an event of the batch (${folder.url}/by_time/${D2}/part-0.json line 2) is an update with the same ordering values (source.ts_ms = 1704067200020)`,
  );
}, 180_000);

test('a retry reuses the complete copy of the same ETag; what the reading throws names the URL; the copies go once it succeeds', async () => {
  const folder = s3Folder('retry');
  const first = lines(['1,a,10']);
  await s3.put(`${folder.key}/orders.csv`, first);
  const [listed] = await listS3Objects(`${folder.url}/orders.csv`);
  const batch = [{ path: listed.url, size: listed.size, checksum: `etag:${listed.etag}` }];
  const copies = path.join(dir, 'retry-copies');
  const failing = readLocalCopies(batch, copies, (files) => Promise.reject(new DataError(`cannot read ${files[0].path}`, { file: files[0].path })));
  await expect(failing).rejects.toMatchObject({ name: 'DataError', message: `cannot read ${listed.url}`, context: { file: listed.url } });
  // Rewritten since: only a copy kept from the first attempt can still give the listed bytes.
  await s3.put(`${folder.key}/orders.csv`, lines(['1,a,11']));
  expect(await readLocalCopies(batch, copies, (files) => Promise.resolve(readFileSync(files[0].path, 'utf8')))).toBe(first);
  expect(existsSync(copies)).toBe(false);
});

test('a store that stops answering while the source is listed: the attempt fails after CDCFLOW_S3_TIMEOUT_SECONDS naming the store and the URL, is retried, and the run completes once it answers', async () => {
  const folder = s3Folder('frozen');
  await s3.put(`${folder.key}/orders.csv`, lines(['1,a,10', '2,b,20']));
  const name = uniqueDataset('frozen');
  mkdirSync(path.join(dir, name), { recursive: true });
  writeConfig(path.join(dir, name), { dataset: name, warehouse: 'wh', tables: [ordersTable('orders', 'full', `${folder.url}/*.csv`)] });
  // A worker of its own, waiting 2 s for an answer.
  const queue = `s3-frozen-${randomUUID()}`;
  await spawnWorker(queue, path.join(dir, 'tmp-frozen'), { env: { ...s3.env, CDCFLOW_S3_TIMEOUT_SECONDS: '2' } });
  s3.signal('SIGSTOP');
  // The old listing waited without end, its heartbeats going on: the safety resumes the store.
  const giveUp = setTimeout(() => s3.signal('SIGCONT'), 40_000);
  try {
    const out = await cdcflow(['run', '--config', path.join(dir, name, 'dataset.yaml'), '--date', D1], { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: queue }, (stderr) => {
      if (stderr.includes('retrying (attempt 2)')) s3.signal('SIGCONT');
      return false;
    });
    expect(out.stderr).toMatch(/orders: [^|]*retrying \(attempt 2\): S3 \(/);
    expect(out.stderr).toContain(`S3 (${s3.endpoint}) did not answer for 2s (CDCFLOW_S3_TIMEOUT_SECONDS) while listing ${folder.url}/*.csv: stopped, overloaded or cut off?`);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/orders\s+full\s+2\s+0\s+0/);
  } finally {
    clearTimeout(giveUp);
    s3.signal('SIGCONT');
  }
}, 90_000);

test('an archived object (Glacier) fails the table at once, saying to restore it, not to check the credentials; nothing is committed', async () => {
  // Before: `S3 refused access to s3://… (HTTP 403: InvalidObjectState: …); check the worker's AWS_ACCESS_KEY_ID, …`.
  const folder = s3Folder('archived');
  const config = ordersDataset('archived', `${folder.url}/{date}/*.csv`);
  await s3.put(`${folder.key}/${D1}/a.csv`, lines(['1,a,10']));
  await s3.put(`${folder.key}/${D1}/b.csv`, lines(['2,b,20']), 'GLACIER');
  const outcome = await run(config, D1);
  for (const table of ['full_t', 'delta_t']) {
    const error = failedTable(outcome, table);
    expect(error).toContain(`${folder.url}/${D1}/b.csv is archived (S3 Glacier Flexible Retrieval or Deep Archive): S3 serves it only once restored (HTTP 403: InvalidObjectState: `);
    expect(error).toContain('); restore it (or copy it to a storage class S3 reads at once) and run again');
    expect((await activityAttempts(h.client, tableWorkflowId(config.dataset, D1, table))).runTableStages).toEqual([1]);
    expect(await committedDates(h.engine, config.warehouse, config.dataset, table)).toEqual([]);
  }
}, 120_000);

test('a worker without S3 credentials is retried, each attempt naming the URL and the variables to set', async () => {
  // Before: `Could not load credentials from any providers`, naming no object. Still retried: a
  // worker on an instance role finds none while that service does not answer.
  const folder = s3Folder('nocreds');
  await s3.put(`${folder.key}/${D1}/orders.csv`, lines(['1,a,10']));
  const name = uniqueDataset('nocreds');
  mkdirSync(path.join(dir, name), { recursive: true });
  writeConfig(path.join(dir, name), { dataset: name, warehouse: 'wh', tables: [ordersTable('full_t', 'full', `${folder.url}/{date}/orders.csv`)] });
  const queue = `s3-nocreds-${randomUUID()}`;
  // Nothing for the AWS SDK's default chain to find either: no profile files, no instance role.
  const none = path.join(dir, 'no-aws-files');
  const env = { ...s3.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SHARED_CREDENTIALS_FILE: none, AWS_CONFIG_FILE: none, AWS_EC2_METADATA_DISABLED: 'true' };
  await spawnWorker(queue, path.join(dir, 'tmp-nocreds'), { env });
  const args = ['run', '--config', path.join(dir, name, 'dataset.yaml'), '--date', D1];
  const out = await cdcflow(args, { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: queue }, (stderr) => stderr.includes('retrying (attempt 2)'), 60_000);
  await h.client.workflow.getHandle(datasetWorkflowId(name, D1)).terminate('test done');
  expect(out.stderr).toContain(`retrying (attempt 2): no S3 credentials for listing ${folder.url}/${D1}/orders.csv: the worker has no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, `);
  expect(out.stderr).toContain("and the AWS SDK's default chain (profile, web identity, instance role) found none (");
}, 120_000);

test('an endpoint nothing listens on is retried, each attempt naming the store, the URL and the setting to check', async () => {
  // Before: `retrying (attempt 2): connect ECONNREFUSED 127.0.0.1:<port>`, naming neither the bucket nor the key.
  const folder = s3Folder('unreached');
  const name = uniqueDataset('unreached');
  mkdirSync(path.join(dir, name), { recursive: true });
  writeConfig(path.join(dir, name), { dataset: name, warehouse: 'wh', tables: [ordersTable('orders', 'full', `${folder.url}/*.csv`)] });
  const port = await freePort();
  const queue = `s3-unreached-${randomUUID()}`;
  await spawnWorker(queue, path.join(dir, 'tmp-unreached'), { env: { ...s3.env, CDCFLOW_S3_ENDPOINT: `127.0.0.1:${port}` } });
  const args = ['run', '--config', path.join(dir, name, 'dataset.yaml'), '--date', D1];
  const out = await cdcflow(args, { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: queue }, (stderr) => stderr.includes('retrying (attempt 2)'), 60_000);
  await h.client.workflow.getHandle(datasetWorkflowId(name, D1)).terminate('test done');
  expect(out.stderr).toContain(
    `retrying (attempt 2): the connection to S3 (127.0.0.1:${port}) failed while listing ${folder.url}/*.csv (connect ECONNREFUSED 127.0.0.1:${port}): ` +
      'is CDCFLOW_S3_ENDPOINT right, and the store up?',
  );
}, 90_000);

test('an endpoint that is a web server but not S3 fails the table at once, naming the URL and CDCFLOW_S3_ENDPOINT', async () => {
  // Before: `…; its bucket does not exist or it was removed; check the source path`, with the path right and the endpoint wrong.
  const web = createServer((_, answer) => answer.writeHead(404, { 'Content-Type': 'text/html' }).end('<html><head><meta charset="utf-8"></head><body>Not Found</body></html>'));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  try {
    const folder = s3Folder('notS3');
    const config = ordersDataset('nots3', `${folder.url}/{date}/orders.csv`);
    const queue = `s3-nots3-${randomUUID()}`;
    const { port } = web.address() as { port: number };
    await spawnWorker(queue, path.join(dir, 'tmp-nots3'), { env: { ...s3.env, CDCFLOW_S3_ENDPOINT: `127.0.0.1:${port}` } });
    const outcome = await withTimeout(runDataset({ client: h.client, settings: { ...h.settings, taskQueue: queue } }, config, D1), 60_000, () => 'the run did not fail within 60 s (retried?)');
    const error = failedTable(outcome, 'full_t');
    expect(error).toContain(`S3 has no object ${folder.url}/${D1}/orders.csv (HTTP 404`);
    expect(error).toContain('; its bucket does not exist or it was removed; check the source path and CDCFLOW_S3_ENDPOINT');
    expect((await activityAttempts(h.client, tableWorkflowId(config.dataset, D1, 'full_t'))).runTableStages).toEqual([1]);
  } finally {
    web.closeAllConnections();
    await new Promise((resolve) => web.close(resolve));
  }
}, 120_000);

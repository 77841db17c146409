/**
 * PostgreSQL sources through the real workflow, against the real PostgreSQL cluster and the
 * real Temporal dev server: a chunked extract survives its worker being SIGKILLed (it resumes
 * at a later chunk and gives byte-identical outputs), source changes come out as exactly their
 * D and U rows, hostile names, exact numerics, bad values and a missing connection variable.
 *
 * Needs dist/ (the crash test runs the real CLI worker; the test script builds it).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import * as path from 'node:path';
import type { ExtractResult } from '../../src/activities/types';
import { startDatasetRun } from '../../src/client/start-run';
import type { DatasetConfig } from '../../src/config/types';
import { chunkFile, extractFolder } from '../../src/sources/postgres-source';
import type { TemporalSettings } from '../../src/settings';
import { tableLayout } from '../../src/warehouse/layout';
import type { DatasetRunResult } from '../../src/workflows';
import { backfillWorkflowId, datasetWorkflowId, tableWorkflowId } from '../../src/workflows/ids';
import { dumpFinished, requestDump, runDump, waitForDump } from '../support/backfill';
import { cdcflow } from '../support/cli';
import { type Harness, readRows, runDataset, startHarness, tableResult, tempDir, uniqueDataset, writeConfig } from '../support/harness';
import { lockTable, PG_URL_VAR, psql } from '../support/postgres';
import { activityAttempts, killAllWorkers, sigkill, sleep, spawnWorker, withTimeout } from '../support/worker-process';

const DATE = '2024-01-01';
const DAY2 = '2024-01-02';

let h: Harness;
let dir: string;

function pgConfig(name: string, tables: object | object[], extra: object = {}): DatasetConfig {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  return writeConfig(folder, { dataset: uniqueDataset(name), warehouse: 'warehouse', ...extra, tables: Array.isArray(tables) ? tables : [tables] });
}

/** The result of a completed activity of a workflow, decoded from its history (JSON payloads). */
async function activityResult<T>(workflowId: string, activityType: string): Promise<T> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
    const done = e.activityTaskCompletedEventAttributes;
    if (done && scheduled.get(String(done.scheduledEventId)) === activityType) {
      return JSON.parse(Buffer.from(done.result!.payloads![0].data!).toString('utf8')) as T;
    }
  }
  throw new Error(`no completed ${activityType} in ${workflowId}`);
}

/** The first activity failure of a workflow, as recorded in its history. */
async function activityFailure(workflowId: string) {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const failure = history.events?.find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes?.failure;
  return failure?.applicationFailureInfo;
}

beforeAll(async () => {
  h = await startHarness();
  dir = tempDir('cdcflow-pg-');
  psql(`DROP SCHEMA IF EXISTS pgs CASCADE; CREATE SCHEMA pgs;`);
});
afterAll(async () => {
  await killAllWorkers();
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('postgres source', () => {
  it('a dump whose worker is killed mid-extract resumes at a later chunk, with outputs byte-identical to an uninterrupted run', async () => {
    const ROWS = 200_000;
    psql(`CREATE TABLE pgs.big (id bigint PRIMARY KEY, name text, amount numeric(12,2), updated_at timestamptz);
      INSERT INTO pgs.big SELECT g, md5(g::text), g * 1.25, TIMESTAMPTZ '2024-01-01 00:00:00+02' + g * INTERVAL '1 second' FROM generate_series(1, ${ROWS}) g;`);
    const table = {
      name: 'big',
      keys: [{ name: 'id', type: 'bigint' }],
      columns: [
        { name: 'name', type: 'varchar' },
        { name: 'amount', type: 'decimal(12,2)' },
        { name: 'updated_at', type: 'timestamp' },
      ],
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'pgs.big', chunkRows: 5_000 },
    };
    const reference = pgConfig('big-ref', table);
    const crash = pgConfig('big-crash', table, { heartbeatTimeoutSeconds: 3 });
    const refResult = tableResult(await runDataset(h, reference, DATE), 'big');
    expect(refResult.counts.I).toBe(ROWS);

    const settings: TemporalSettings = { ...h.settings, taskQueue: `test-pg-crash-${crash.dataset}` };
    const first = await spawnWorker(settings.taskQueue, path.join(dir, 'duckdb-tmp'));
    // The dump of the whole table, dated like the reference run (a dump is a full run).
    await requestDump({ client: h.client, settings }, crash, { requestId: 'crash', businessDate: DATE });
    const dumpId = backfillWorkflowId(crash.dataset, 'crash');
    // Killed once the manifest holds a few finished chunks, whatever the time that takes.
    const manifest = path.join(extractFolder(crash.tables[0], DATE), 'manifest.json');
    const chunksOnDisk = () => (existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { chunks: unknown[]; complete: boolean }) : undefined);
    for (let m = chunksOnDisk(); !m || m.chunks.length < 3; m = chunksOnDisk()) await sleep(5);
    await sigkill(first);
    const atKill = chunksOnDisk()!;
    expect(atKill.complete).toBe(false);

    const second = await spawnWorker(settings.taskQueue, path.join(dir, 'duckdb-tmp'));
    const status = await withTimeout(waitForDump({ client: h.client, settings }, crash.dataset, 'crash', dumpFinished), 90_000, () => `the dump did not end after the restart:\n${second.output()}`);
    expect(status).toMatchObject({ state: 'completed', tables: { big: { phase: 'done', chunks: ROWS / 5_000, rows: ROWS } } });
    const result: DatasetRunResult = await h.client.workflow.getHandle(dumpId).result();
    expect(result.tables[0].status).toBe('completed');

    const childId = `${dumpId}/big`;
    const attempts = await activityAttempts(h.client, childId);
    expect(attempts.extractSource).toEqual([2]);
    for (const [type, a] of Object.entries(attempts)) if (type !== 'extractSource') expect(a).toEqual([1]);
    // The second attempt kept every chunk the first had finished and read only the rest.
    const extracted = await activityResult<ExtractResult>(childId, 'extractSource');
    expect(extracted).toMatchObject({ chunks: ROWS / 5_000, rows: ROWS, resumedChunks: atKill.chunks.length });
    expect(extracted.resumedChunks).toBeGreaterThanOrEqual(3);

    const a = tableLayout(reference.warehouse, reference.dataset, 'big');
    const b = tableLayout(crash.warehouse, crash.dataset, 'big');
    for (const [x, y] of [
      [a.current, b.current],
      [a.history(DATE), b.history(DATE)],
    ]) {
      expect(readFileSync(y).equals(readFileSync(x))).toBe(true);
    }
    expect(existsSync(b.workDir(DATE))).toBe(false);
    await sigkill(second);
  });

  it('a run resumed after its worker was killed, and a vacuum in between, still reads every row: no deletes of rows the source has', async () => {
    const ROWS = 100_000;
    psql(`CREATE TABLE pgs.vac (id bigint PRIMARY KEY, v text);
      INSERT INTO pgs.vac SELECT g, md5(g::text) FROM generate_series(1, ${ROWS}) g;`);
    const config = pgConfig('vac', {
      name: 'vac',
      keys: [{ name: 'id', type: 'bigint' }],
      columns: [{ name: 'v', type: 'varchar' }],
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'pgs.vac', chunkRows: 2_000, concurrentChunks: 1 },
    }, { heartbeatTimeoutSeconds: 3 });
    expect(tableResult(await runDataset(h, config, DATE), 'vac').counts.I).toBe(ROWS);

    // Day 2 on a worker of its own, killed once it has recorded a dozen chunks.
    const settings: TemporalSettings = { ...h.settings, taskQueue: `test-pg-vacuum-${config.dataset}` };
    const first = await spawnWorker(settings.taskQueue, path.join(dir, 'duckdb-tmp'));
    const { handle } = await startDatasetRun(h.client, settings, { config, businessDate: DAY2 });
    const folder = extractFolder(config.tables[0], DAY2);
    const manifest = path.join(folder, 'manifest.json');
    const chunksOnDisk = () => (existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { chunks: unknown[]; complete: boolean }) : undefined);
    for (let m = chunksOnDisk(); !m || m.chunks.length < 12; m = chunksOnDisk()) await sleep(5);
    await sigkill(first);
    expect(chunksOnDisk()!.complete).toBe(false);

    // Its oldest chunks look old; the manifest and the later chunks do not. The stage folder is
    // one unit for the vacuum: nothing of it goes.
    const old = new Date(Date.now() - 2 * 3_600_000);
    for (let chunk = 1; chunk <= 10; chunk++) utimesSync(chunkFile(folder, chunk), old, old);
    const vacuum = await cdcflow(['vacuum', '--config', path.join(dir, 'vac', 'dataset.yaml'), '--older-than-hours', '1'], {});
    expect(vacuum).toMatchObject({ code: 0, stdout: expect.stringContaining(', 0 stage or temporary file(s) removed') });
    expect(existsSync(chunkFile(folder, 1))).toBe(true);

    const second = await spawnWorker(settings.taskQueue, path.join(dir, 'duckdb-tmp'));
    const result = await withTimeout(handle.result(), 90_000, () => `day 2 did not end after the restart:\n${second.output()}`);
    expect(tableResult({ ok: true, result }, 'vac').counts).toEqual({ I: 0, U: 0, D: 0, X: 0, N: ROWS });
    await sigkill(second);
  });

  it('rows deleted and updated at the source, then a full dump: D and U for exactly those keys', async () => {
    // A column named like the work folder's partition (business_date=D): the file's value must win.
    psql(`CREATE TABLE pgs.small (id integer PRIMARY KEY, v text, business_date date);
      INSERT INTO pgs.small SELECT g, 'v' || g, DATE '1999-12-31' FROM generate_series(1, 10) g;`);
    const config = pgConfig('small', {
      name: 'small',
      keys: [{ name: 'id', type: 'integer' }],
      columns: [
        { name: 'v', type: 'varchar' },
        { name: 'business_date', type: 'date' },
      ],
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'pgs.small', chunkRows: 4 },
    });
    expect(tableResult(await runDataset(h, config, DATE), 'small').counts).toEqual({ I: 10, U: 0, D: 0, X: 0, N: 0 });
    psql(`DELETE FROM pgs.small WHERE id IN (2, 3); UPDATE pgs.small SET v = 'new' WHERE id IN (5, 6, 9);`);
    const dump = await runDump(h, config, { requestId: 'day2', businessDate: DAY2 });
    const day2 = tableResult({ ok: true, result: dump.run! }, 'small');
    expect(day2.counts).toEqual({ I: 0, U: 3, D: 2, X: 0, N: 5 });
    const old = '1999-12-31';
    expect(await readRows(h.engine, day2.historyPath, 'id')).toEqual([
      { id: 2, v: 'v2', business_date: old, OPERATION: 'D', eff_start_date: DAY2 },
      { id: 3, v: 'v3', business_date: old, OPERATION: 'D', eff_start_date: DAY2 },
      { id: 5, v: 'new', business_date: old, OPERATION: 'U', eff_start_date: DAY2 },
      { id: 6, v: 'new', business_date: old, OPERATION: 'U', eff_start_date: DAY2 },
      { id: 9, v: 'new', business_date: old, OPERATION: 'U', eff_start_date: DAY2 },
    ]);
  });

  it('running a date again, or repeating a dump, on an unchanged source commits nothing new and leaves the sink as it was', async () => {
    psql(`CREATE TABLE pgs.again (id integer PRIMARY KEY, v text, amount numeric(12,2), at timestamptz);
      INSERT INTO pgs.again SELECT g, md5(g::text), g * 1.25, TIMESTAMPTZ '2024-01-01 00:00:00+02' + g * INTERVAL '1 minute' FROM generate_series(1, 5000) g;`);
    const config = pgConfig('again', {
      name: 'again',
      keys: [{ name: 'id', type: 'integer' }],
      columns: [
        { name: 'v', type: 'varchar' },
        { name: 'amount', type: 'decimal(12,2)' },
        { name: 'at', type: 'timestamp' },
      ],
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'pgs.again', chunkRows: 700 },
      sinks: [{ type: 'duckdb', path: 'out/again.duckdb' }],
    });
    const layout = tableLayout(config.warehouse, config.dataset, 'again');
    const published = () => [layout.current, layout.history(DATE)].map((f) => readFileSync(f));
    const first = tableResult(await runDataset(h, config, DATE), 'again');
    expect(first.counts).toEqual({ I: 5000, U: 0, D: 0, X: 0, N: 0 });
    const before = published();

    const rerun = tableResult(await runDataset(h, config, DATE), 'again');
    const dump = tableResult({ ok: true, result: (await runDump(h, config, { requestId: 'again', businessDate: DATE })).run! }, 'again');
    for (const again of [rerun, dump]) {
      expect(again.counts).toEqual(first.counts);
      expect(again.skippedStages).toContain('write');
      expect(again.sinks?.map((s) => [s.applied, s.lastApplied])).toEqual([[[], DATE]]);
    }
    expect(published()).toEqual(before);

    // The source is read again each time: a change made since is committed.
    psql(`UPDATE pgs.again SET v = 'changed' WHERE id = 4321`);
    const changed = tableResult(await runDataset(h, config, DATE), 'again');
    expect(changed.counts).toMatchObject({ I: 5000, U: 0 });
    expect(changed.skippedStages).not.toContain('write');
    expect(changed.sinks?.[0].applied).toEqual([expect.objectContaining({ businessDate: DATE, rebuilt: true })]);
  });

  it('quotes hostile schema, table and column names for PostgreSQL (a quote, a semicolon, --, mixed case)', async () => {
    psql(`CREATE TABLE pgs.sentinel (x integer); INSERT INTO pgs.sentinel VALUES (1);
      CREATE SCHEMA "we""ird;--s";
      CREATE TABLE "we""ird;--s"."Ta""ble; DROP TABLE pgs.sentinel;--" ("Id""Key" integer, "sem;i" text, "da--sh" text, "MiXed" integer, PRIMARY KEY ("Id""Key", "MiXed"));
      INSERT INTO "we""ird;--s"."Ta""ble; DROP TABLE pgs.sentinel;--" SELECT g, 'a;' || g, '--' || g, g % 3 FROM generate_series(1, 7) g;`);
    const config = pgConfig('hostile', {
      name: 'hostile',
      keys: [
        { name: 'Id"Key', type: 'integer' },
        { name: 'mixed', type: 'integer' },
      ],
      columns: [
        { name: 'sem;i', type: 'varchar' },
        { name: 'da--sh', type: 'varchar' },
      ],
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'we"ird;--s.Ta"ble; DROP TABLE pgs.sentinel;--', chunkRows: 2 },
    });
    const result = tableResult(await runDataset(h, config, DATE), 'hostile');
    expect(result.counts.I).toBe(7);
    const rows = await readRows(h.engine, result.currentPath, '"Id""Key"', ['KEY_HASH', 'NONKEY_HASH', 'OPERATION', 'EFF_START_DATE']);
    expect(rows[6]).toEqual({ 'Id"Key': 7, mixed: 1, 'sem;i': 'a;7', 'da--sh': '--7' });
    expect(psql(`SELECT count(*) FROM pgs.sentinel`)).toBe('1');
  });

  it('an unconstrained numeric, or a domain over one, reaches the committed state exactly (it is read as its text, never as a double)', async () => {
    // The extension delivers a domain over numeric (and a domain over that domain) as DOUBLE too.
    psql(`CREATE DOMAIN pgs.amount AS numeric; CREATE DOMAIN pgs.positive_amount AS pgs.amount CHECK (VALUE > 0);
      CREATE TABLE pgs.bignum ("ID" bigint PRIMARY KEY, bignum numeric, amount pgs.amount, positive pgs.positive_amount);
      INSERT INTO pgs.bignum SELECT id, v, v, v FROM (VALUES (1, 12345678901234567890.123456789), (3, 99999999999999999999.123456789), (5, 0.000000001)) AS t(id, v);`);
    const config = pgConfig('bignum', {
      name: 'bignum',
      keys: [{ name: 'ID', type: 'bigint' }],
      columns: ['bignum', 'amount', 'positive'].map((name) => ({ name, type: 'decimal(38,9)' })),
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'pgs.bignum' },
    });
    const result = tableResult(await runDataset(h, config, DATE), 'bignum');
    expect(result.counts.I).toBe(3);
    const exact = (v: string) => ({ bignum: v, amount: v, positive: v });
    expect(await readRows(h.engine, result.currentPath, '"ID"', ['KEY_HASH', 'NONKEY_HASH', 'OPERATION', 'EFF_START_DATE'])).toEqual([
      { ID: '1', ...exact('12345678901234567890.123456789') },
      { ID: '3', ...exact('99999999999999999999.123456789') },
      { ID: '5', ...exact('0.000000001') },
    ]);
  });

  it('a value that does not convert exactly fails the table naming table, key and column', async () => {
    psql(`CREATE TABLE pgs.bad (id integer PRIMARY KEY, amount text);
      INSERT INTO pgs.bad SELECT g, CASE WHEN g = 7 THEN 'seven' ELSE g::text END FROM generate_series(1, 10) g;`);
    const config = pgConfig('bad', {
      name: 'bad',
      keys: [{ name: 'id', type: 'integer' }],
      columns: [{ name: 'amount', type: 'integer' }],
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'pgs.bad', chunkRows: 4 },
    });
    const outcome = await runDataset(h, config, DATE);
    expect(outcome.ok).toBe(false);
    expect(outcome.result?.tables[0]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/value "seven" in column "amount" of the row with key \(id=7\) does not convert exactly to integer .*table=bad key=\(id=7\) column=amount/),
    });
    expect((await activityAttempts(h.client, tableWorkflowId(config.dataset, DATE, 'bad'))).extractSource).toEqual([1]);
  });

  it("a numeric NaN fails the table naming key and column, where the extension delivered it as 0 (exit 0); double's NaN and infinite dates stay as they are", async () => {
    psql(`CREATE TABLE pgs.odd (id integer PRIMARY KEY, amount numeric(10,2), score double precision, since date);
      INSERT INTO pgs.odd VALUES (1, 1.50, 'NaN', 'infinity'), (2, 2.00, 'Infinity', '-infinity'), (3, 3.25, 0.5, '2024-01-01');`);
    const config = pgConfig('odd', {
      name: 'odd',
      keys: [{ name: 'id', type: 'integer' }],
      columns: [
        { name: 'amount', type: 'decimal(10,2)' },
        { name: 'score', type: 'double' },
        { name: 'since', type: 'date' },
      ],
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'pgs.odd' },
    });
    tableResult(await runDataset(h, config, DATE), 'odd');
    const current = path.join(config.warehouse, config.dataset, 'odd', 'current.parquet');
    const text = await h.engine.withSession((s) =>
      s.rows(`SELECT id, CAST(amount AS VARCHAR) AS amount, CAST(score AS VARCHAR) AS score, CAST(since AS VARCHAR) AS since FROM read_parquet('${current}') ORDER BY id`),
    );
    expect(text).toEqual([
      { id: 1, amount: '1.50', score: 'nan', since: 'infinity' },
      { id: 2, amount: '2.00', score: 'inf', since: '-infinity' },
      { id: 3, amount: '3.25', score: '0.5', since: '2024-01-01' },
    ]);

    psql(`UPDATE pgs.odd SET amount = 'NaN' WHERE id = 2`);
    const outcome = await runDataset(h, config, DAY2);
    expect(outcome.ok).toBe(false);
    expect(outcome.result?.tables[0]).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('value "NaN" in column "amount" of the row with key (id=2) does not convert exactly to decimal(10,2)'),
    });
    expect((await activityAttempts(h.client, tableWorkflowId(config.dataset, DAY2, 'odd'))).extractSource).toEqual([1]);
  });

  it('a real arrives as the number PostgreSQL shows, an array as PostgreSQL\'s text of it (also one of two dimensions or with bounds)', async () => {
    psql(`CREATE TABLE pgs.floats_arrays (id integer PRIMARY KEY, r real, rd real, tags text[], grid int[]);
      INSERT INTO pgs.floats_arrays VALUES
        (1, 1.1, 0.3, '{"a,b","c d",NULL,"NULL","x\\"y"}', '{{1,2},{3,4}}'),
        (2, 3758336.75, 16777216, '[0:1]={a,b}', '{}'),
        (3, 'NaN', 1.5, '{}', NULL);`);
    const config = pgConfig('floats-arrays', {
      name: 'floats_arrays',
      keys: [{ name: 'id', type: 'integer' }],
      columns: [
        { name: 'r', type: 'double' },
        { name: 'rd', type: 'decimal(18,9)' },
        { name: 'tags', type: 'varchar' },
        { name: 'grid', type: 'varchar' },
      ],
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'pgs.floats_arrays' },
    });
    const result = tableResult(await runDataset(h, config, DATE), 'floats_arrays');
    const rows = await h.engine.withSession((s) =>
      s.rows(`SELECT id, CAST(r AS VARCHAR) AS r, CAST(rd AS VARCHAR) AS rd, tags, grid FROM read_parquet('${result.currentPath}') ORDER BY id`),
    );
    // The old values: 1.100000023841858, 3758336.75 (PostgreSQL shows 3.7583368e+06),
    // ['a,b', c d, NULL, 'NULL', 'x"y'], [a, b] (its bounds lost); a two-dimensional array was
    // retried for minutes.
    expect(rows).toEqual([
      { id: 1, r: '1.1', rd: '0.300000000', tags: '{"a,b","c d",NULL,"NULL","x\\"y"}', grid: '{{1,2},{3,4}}' },
      { id: 2, r: '3758336.8', rd: '16777216.000000000', tags: '[0:1]={a,b}', grid: '{}' },
      { id: 3, r: 'nan', rd: '1.500000000', tags: '{}', grid: null },
    ]);
  });

  it('refuses at once what cannot be read as configured: a timestamp beyond DuckDB\'s, an array into a number, columns named alike but for case, reals rounded by the session; a table name wrong only in case names the right one', async () => {
    psql(`CREATE TABLE pgs.far (id integer PRIMARY KEY, at timestamp, inst timestamptz);
      INSERT INTO pgs.far VALUES (1, '2024-01-01', 'infinity'), (2, '294276-12-31 23:59:59', '2024-01-01 00:00:00+00');
      CREATE TABLE pgs.arr (id integer PRIMARY KEY, n int[]); INSERT INTO pgs.arr VALUES (1, '{1}');
      CREATE TABLE pgs."Cased" (id integer PRIMARY KEY, "Total" integer, total text); INSERT INTO pgs."Cased" VALUES (1, 2, 'two');
      CREATE TABLE pgs.reals (id integer PRIMARY KEY, r real); INSERT INTO pgs.reals VALUES (1, 3758336.75);`);
    process.env.CDCFLOW_TEST_PG_ROUNDING = `${process.env[PG_URL_VAR]!}${process.env[PG_URL_VAR]!.includes('?') ? '&' : '?'}options=-c%20extra_float_digits%3D0`;
    const table = (name: string, columns: object[], source: object) => ({ name, keys: [{ name: 'id', type: 'integer' }], columns, source: { format: 'postgres', connection: PG_URL_VAR, ...source } });
    const config = pgConfig('refused', [
      table('far', [{ name: 'at', type: 'timestamp' }, { name: 'inst', type: 'timestamp' }], { table: 'pgs.far' }),
      table('arr', [{ name: 'n', type: 'integer' }], { table: 'pgs.arr' }),
      table('cased', [{ name: 'Total', type: 'integer' }], { table: 'pgs.Cased' }),
      table('lowered', [], { table: 'pgs.cased' }),
      table('reals', [{ name: 'r', type: 'double' }], { table: 'pgs.reals', connection: 'CDCFLOW_TEST_PG_ROUNDING' }),
    ]);
    const outcome = await runDataset(h, config, DATE);
    const failed = Object.fromEntries((outcome.result?.tables ?? []).map((t) => [t.table, t]));
    expect(failed).toMatchObject({
      // The old run committed 290279-12-14 (BC) 15:58:10 (the extension wraps it around).
      far: { status: 'failed', error: expect.stringContaining('a value in column "at" of the row with key (id=2) is later than 294247-01-10 04:00:54.775806, the latest timestamp DuckDB holds') },
      arr: { status: 'failed', error: expect.stringContaining(`column "n": a PostgreSQL array (INTEGER[]) is read as PostgreSQL's text of it ({a,b}), so only into varchar, not integer`) },
      // The old run retried DuckDB's "duplicate column name" for minutes.
      cased: { status: 'failed', error: expect.stringContaining('two of its columns are named "total" when upper and lower case are not told apart, as DuckDB does not') },
      reals: { status: 'failed', error: expect.stringContaining('the PostgreSQL session sets extra_float_digits = 0, at which PostgreSQL rounds a real to 6 digits') },
      // The old message stopped at: relation "pgs.cased" does not exist.
      lowered: { status: 'failed', error: expect.stringContaining('relation "pgs.cased" does not exist; names are matched with their case, and PostgreSQL has pgs.Cased') },
    });
    for (const [name, type] of [['far', 'DataError'], ['arr', 'ConfigError'], ['cased', 'ConfigError'], ['reals', 'ConfigError']]) {
      const id = tableWorkflowId(config.dataset, DATE, name);
      expect(await activityFailure(id)).toMatchObject({ type, nonRetryable: true });
      expect((await activityAttempts(h.client, id)).extractSource).toEqual([1]);
    }
    expect(existsSync(tableLayout(config.warehouse, config.dataset, 'far').current)).toBe(false);
  });

  it('refuses a NULL key, which keyset chunks would skip', async () => {
    psql(`CREATE TABLE pgs.nullkey (id integer, v text); INSERT INTO pgs.nullkey VALUES (1, 'a'), (NULL, 'b'), (3, 'c');`);
    const config = pgConfig('nullkey', {
      name: 'nullkey',
      keys: [{ name: 'id', type: 'integer' }],
      columns: [{ name: 'v', type: 'varchar' }],
      source: { format: 'postgres', connection: PG_URL_VAR, query: 'SELECT id, v FROM pgs.nullkey' },
    });
    const outcome = await runDataset(h, config, DATE);
    expect(outcome.result?.tables[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('key column "id" is NULL in the row (id=NULL)') });
  });

  it('a connection variable missing on the worker is a ConfigError naming it', async () => {
    const config = pgConfig('noenv', {
      name: 'noenv',
      keys: [{ name: 'id', type: 'integer' }],
      source: { format: 'postgres', connection: 'CDCFLOW_TEST_NO_SUCH_VARIABLE', table: 'pgs.sentinel' },
    });
    const outcome = await runDataset(h, config, DATE);
    expect(outcome.result?.tables[0]).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('environment variable CDCFLOW_TEST_NO_SUCH_VARIABLE (the PostgreSQL connection string) is not set on the worker'),
    });
    expect(await activityFailure(tableWorkflowId(config.dataset, DATE, 'noenv'))).toMatchObject({ type: 'ConfigError', nonRetryable: true });
  });

  it('a source table locked by another session: the progress line names the connection variable, the table and the session holding the lock', async () => {
    psql(`CREATE TABLE pgs.locked (id integer PRIMARY KEY, v text); INSERT INTO pgs.locked VALUES (1, 'a'), (2, 'b');`);
    pgConfig('locked', {
      name: 'locked',
      keys: [{ name: 'id', type: 'integer' }],
      columns: [{ name: 'v', type: 'varchar' }],
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'pgs.locked' },
    });
    const lock = await lockTable('pgs.locked');
    // The old line said only "locked: extract (1/6)" until the lock went (here: the safety release).
    const giveUp = setTimeout(() => void lock.release(), 40_000);
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue };
    const out = await cdcflow(['run', '--config', path.join(dir, 'locked', 'dataset.yaml'), '--date', DATE], env, (stderr) => {
      if (stderr.includes('for a lock on')) void lock.release();
      return false;
    });
    clearTimeout(giveUp);
    await lock.release();
    expect(out.stderr).toMatch(
      new RegExp(`locked: extract \\(1/\\d\\) · PostgreSQL \\(\\$${PG_URL_VAR}\\): waiting \\d+s for a lock on pgs\\.locked, held by session \\d+ \\(cdcflow-test-lock, active for \\d+s\\)`),
    );
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/locked\s+full\s+2\s+0\s+0/);
  }, 90_000);

  it('a worker frozen mid-stage: the progress line keeps what the run last said and says since when no worker answers', async () => {
    psql(`CREATE TABLE pgs.frozen (id integer PRIMARY KEY, v text); INSERT INTO pgs.frozen VALUES (1, 'a');`);
    const config = pgConfig('frozen', {
      name: 'frozen',
      keys: [{ name: 'id', type: 'integer' }],
      columns: [{ name: 'v', type: 'varchar' }],
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'pgs.frozen' },
    });
    const queue = `test-pg-frozen-${config.dataset}`;
    const worker = await spawnWorker(queue, path.join(dir, 'duckdb-tmp'));
    // The extract waits on the lock, so the run is under way when the worker stops.
    const lock = await lockTable('pgs.frozen');
    let frozenAt: number | undefined;
    try {
      const out = await cdcflow(['run', '--config', path.join(dir, 'frozen', 'dataset.yaml'), '--date', DATE], { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: queue }, (stderr) => {
        if (frozenAt === undefined && stderr.includes('frozen: extract')) {
          frozenAt = stderr.length;
          worker.child.kill('SIGSTOP');
        }
        return frozenAt !== undefined && /no answer from a worker|waiting for/.test(stderr.slice(frozenAt));
      });
      const afterFreeze = out.stderr.slice(frozenAt);
      // The old line went back to "waiting for the run to start" until the server stopped listing the worker.
      expect(afterFreeze).not.toContain('waiting for the run to start');
      expect(afterFreeze).toMatch(
        new RegExp(`frozen: extract \\(1/\\d\\)[^|]* \\| no answer from a worker on task queue "${queue}" since \\d\\d:\\d\\d:\\d\\d UTC \\(stopped, overloaded or cut off from the server\\?\\)`),
      );
    } finally {
      worker.child.kill('SIGCONT');
      await sigkill(worker);
      await lock.release();
      await h.client.workflow.getHandle(datasetWorkflowId(config.dataset, DATE)).terminate('test over');
    }
  }, 90_000);

  it('a refused login is a ConfigError whose message keeps the connection string (and its password) out', async () => {
    const badPassword = 'not-the-password-x9';
    process.env.CDCFLOW_TEST_PG_BAD_LOGIN = process.env[PG_URL_VAR]!.replace(/:[^:@/]+@/, `:${badPassword}@`);
    const config = pgConfig('badlogin', {
      name: 'badlogin',
      keys: [{ name: 'x', type: 'integer' }],
      source: { format: 'postgres', connection: 'CDCFLOW_TEST_PG_BAD_LOGIN', table: 'pgs.sentinel' },
    });
    const outcome = await runDataset(h, config, DATE);
    expect(outcome.result?.tables[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('password authentication failed') });
    expect(JSON.stringify(outcome)).not.toContain(badPassword);
    expect(JSON.stringify(outcome)).toContain('$CDCFLOW_TEST_PG_BAD_LOGIN');
    expect(await activityFailure(tableWorkflowId(config.dataset, DATE, 'badlogin'))).toMatchObject({ type: 'ConfigError', nonRetryable: true });
  });
});

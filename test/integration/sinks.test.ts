/**
 * Sinks through the real workflow: a DuckDB database file and the real PostgreSQL cluster kept
 * equal to the published Parquet outputs after day 1 and day 2, sensitive columns split off
 * everywhere, a repeated day changing nothing, a PostgreSQL sink that refuses connections
 * first, a sink two dates behind catching up in date order (a delta's unsupplied rows' ignored
 * columns too), a sink whose table was dropped or whose rows were deleted by hand rebuilt from the
 * first date, and sinks refused at once for what no retry fixes: a column type changed by hand, a
 * bad option in the connection string; a DuckDB file open in another process (the apply waits for
 * it, status reads beside a reader), and a date whose sinks failed and that a later date's run
 * caught up (nothing for `retry` to do).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { DatasetConfig } from '../../src/config/types';
import { quoteIdent, quoteLiteral } from '../../src/engine/sql';
import type { Session } from '../../src/engine/duckdb';
import { sensitiveLayout } from '../../src/warehouse/sensitive';
import { tableLayout } from '../../src/warehouse/layout';
import { tableWorkflowId } from '../../src/workflows/ids';
import { failedTable, type Harness, type RunOutcome, runDataset, startHarness, tableResult, tempDir, uniqueDataset, writeConfig, writeCsv } from '../support/harness';
import { difference } from '../support/compare';
import { PG_URL_VAR, psql } from '../support/postgres';
import { cdcflow } from '../support/cli';
import { activityAttempts, sleep, withTimeout } from '../support/worker-process';

const D1 = '2024-01-01';
const D2 = '2024-01-02';
const D3 = '2024-01-03';
const D4 = '2024-01-04';

let h: Harness;
let dir: string;

beforeAll(async () => {
  h = await startHarness();
  dir = tempDir('cdcflow-sinks-');
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const HEADER = ['id', 'name', 'amount', 'ssn', 'seen'];
/** Day 1, then day 2: 2 deleted, 3 updated, 1 changed only in its sensitive column, 1 only in an ignored one, 2 inserted. */
const DAYS: Record<string, (string | number)[][]> = {
  [D1]: Array.from({ length: 10 }, (_, i) => [i, `n${i}`, `${i}.50`, `ssn-${i}`, 'a']),
  [D2]: [
    ...Array.from({ length: 8 }, (_, i) => [i, i < 3 ? `m${i}` : `n${i}`, `${i}.50`, i === 4 ? 'ssn-new' : `ssn-${i}`, i === 5 ? 'b' : 'a']),
    [10, 'n10', '10.00', 'ssn-10', 'a'],
    [11, 'n11', '11.00', 'ssn-11', 'a'],
  ],
  [D3]: Array.from({ length: 9 }, (_, i) => [i, `d3-${i}`, `${i}.50`, `ssn-${i}`, 'c']),
  [D4]: Array.from({ length: 9 }, (_, i) => [i + 1, `d4-${i}`, `${i}.25`, `ssn-${i}`, 'c']),
};

function datasetWith(name: string, sinks: object[]): { config: (date: string, withSinks?: boolean, ssnSensitive?: boolean) => DatasetConfig; folder: string } {
  const folder = path.join(dir, name);
  mkdirSync(path.join(folder, 'in'), { recursive: true });
  for (const [date, rows] of Object.entries(DAYS)) writeCsv(path.join(folder, 'in', `${date}.csv`), HEADER, rows);
  const dataset = uniqueDataset(name);
  const table = {
    name: 'people',
    keys: [{ name: 'id', type: 'integer' }],
    columns: [
      { name: 'name', type: 'varchar' },
      { name: 'amount', type: 'decimal(12,2)' },
      { name: 'ssn', type: 'varchar', sensitive: true },
      { name: 'seen', type: 'varchar' },
    ],
    ignore: ['seen'],
    source: { format: 'csv', path: 'in/{date}.csv' },
  };
  return {
    folder,
    config: (_date, withSinks = true, ssnSensitive = true) => {
      const columns = table.columns.map((c) => (c.name === 'ssn' ? { ...c, sensitive: ssnSensitive } : c));
      return writeConfig(folder, { dataset, warehouse: 'wh', tables: [{ ...table, columns, ...(withSinks ? { sinks } : {}) }] });
    },
  };
}

/** A dataset with a DuckDB-file sink (sink/analytics.duckdb) and a PostgreSQL one (`app`), both in a new schema. */
function withBothSinks(name: string) {
  const schema = `s_${randomBytes(4).toString('hex')}`;
  const file = path.join(dir, name, 'sink', 'analytics.duckdb');
  const { config } = datasetWith(name, [
    { type: 'duckdb', path: 'sink/analytics.duckdb', schema },
    { type: 'postgres', name: 'app', connection: PG_URL_VAR, schema },
  ]);
  return { schema, file, config };
}

/** Runs `sql` (naming tables without a database) in the DuckDB sink file, as a person would between runs. */
async function inSinkFile(file: string, sql: string): Promise<void> {
  await h.engine.withSession(async (s) => {
    await s.run(`ATTACH ${quoteLiteral(file)} AS by_hand`);
    try {
      await s.run('USE by_hand');
      await s.run(sql);
    } finally {
      await s.run('USE memory');
      await s.run('DETACH by_hand');
    }
  });
}

/** Runs `fn` with the sink's database attached read-only in the test's DuckDB session. */
async function withSinkDb<T>(s: Session, kind: 'duckdb' | 'postgres', file: string, fn: (db: string) => Promise<T>): Promise<T> {
  const db = `check_${randomBytes(4).toString('hex')}`;
  const source = kind === 'duckdb' ? quoteLiteral(file) : quoteLiteral(process.env[PG_URL_VAR]!);
  await s.run(`ATTACH ${source} AS ${db} (${kind === 'duckdb' ? '' : 'TYPE postgres, '}READ_ONLY)`);
  try {
    return await fn(db);
  } finally {
    await s.run(`DETACH ${db}`);
  }
}

const DATA = ['id', 'name', 'amount', 'seen'].map(quoteIdent).join(', ');

/** The sink's current and history equal the published exports; the sensitive ones too; markers by date. */
async function expectSinkEqualsExports(config: DatasetConfig, kind: 'duckdb' | 'postgres', file: string, schema: string) {
  const layout = tableLayout(config.warehouse, config.dataset, 'people');
  const hidden = sensitiveLayout(config.warehouse, config.dataset, 'people');
  const parquet = (p: string) => `read_parquet(${quoteLiteral(p)}, hive_partitioning = true)`;
  return h.engine.withSession((s) =>
    withSinkDb(s, kind, file, async (db) => {
      const t = (sch: string, name: string) => `${db}.${quoteIdent(sch)}.${quoteIdent(name)}`;
      const current = await difference(s, `SELECT * FROM ${t(schema, 'people_current')}`, `SELECT * FROM ${parquet(layout.current)}`);
      const history = await difference(
        s,
        `SELECT ${DATA}, OPERATION, KEY_HASH, NONKEY_HASH, EFF_START_DATE FROM ${t(schema, 'people_history')}`,
        `SELECT ${DATA}, OPERATION, KEY_HASH, NONKEY_HASH, eff_start_date FROM ${parquet(path.join(layout.historyRoot, '*', '*.parquet'))}`,
      );
      const sensitiveCurrent = await difference(s, `SELECT KEY_HASH, ssn FROM ${t(`${schema}_sensitive`, 'people_current')}`, `SELECT * FROM ${parquet(hidden.current)}`);
      const sensitiveHistory = await difference(
        s,
        `SELECT KEY_HASH, OPERATION, ssn, EFF_START_DATE FROM ${t(`${schema}_sensitive`, 'people_history')}`,
        `SELECT KEY_HASH, OPERATION, ssn, eff_start_date FROM ${parquet(path.join(path.dirname(path.dirname(hidden.history(D1))), '*', '*.parquet'))}`,
      );
      const mainColumns = await s.rows<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE ${t(schema, 'people_current')})`);
      const markers = await s.rows<{ business_date: string; commit_id: string; applied_at: string }>(
        `SELECT CAST(business_date AS VARCHAR) AS business_date, commit_id, CAST(applied_at AS VARCHAR) AS applied_at FROM ${t(schema, 'cdcflow_applied')} ` +
          `WHERE dataset = ${quoteLiteral(config.dataset)} ORDER BY business_date`,
      );
      return { current, history, sensitiveCurrent, sensitiveHistory, columns: mainColumns.map((c) => c.column_name), markers };
    }),
  );
}

test('DuckDB-file and PostgreSQL sinks equal the published outputs after day 1 and day 2; sensitive columns split off; day 2 again changes nothing', async () => {
  const { schema, file, config } = withBothSinks('both');
  const checks: Record<string, Awaited<ReturnType<typeof expectSinkEqualsExports>>[]> = { duckdb: [], postgres: [] };
  for (const date of [D1, D2]) {
    const outcome = await runDataset(h, config(date), date);
    const result = tableResult(outcome, 'people');
    expect(result.sinks?.map((r) => [r.sink, r.applied.map((a) => a.businessDate), r.lastApplied])).toEqual([
      ['duckdb', [date], date],
      ['app', [date], date],
    ]);
    for (const kind of ['duckdb', 'postgres'] as const) {
      const check = await expectSinkEqualsExports(config(date), kind, file, schema);
      expect({ kind, date, ...check }).toMatchObject({
        current: { diff: 0 },
        history: { diff: 0 },
        sensitiveCurrent: { diff: 0 },
        sensitiveHistory: { diff: 0 },
      });
      expect(check.columns.map((c) => c.toLowerCase())).not.toContain('ssn');
      checks[kind].push(check);
    }
  }
  // Day 2: 2 D, 3 U by name, 1 U by the sensitive column only; the ignored-only change is N.
  const d2 = (await runDataset(h, config(D2), D2)).result!;
  const again = tableResult({ ok: true, result: d2 }, 'people');
  expect(again.counts).toMatchObject({ I: 2, U: 4, D: 2 });
  expect(again.skippedStages).toContain('write');
  expect(again.sinks?.map((r) => [r.sink, r.applied, r.lastApplied])).toEqual([
    ['duckdb', [], D2],
    ['app', [], D2],
  ]);
  for (const kind of ['duckdb', 'postgres'] as const) {
    const after = await expectSinkEqualsExports(config(D2), kind, file, schema);
    const before = checks[kind][1];
    expect(after).toEqual(before);
    expect(after.current.rows).toBe(10);
    expect(after.history.rows).toBe(10 + 8);
    expect(after.markers.map((m) => m.business_date)).toEqual([D1, D2]);
  }
  // The published exports hold no sensitive column; the sensitive dataset joins back by KEY_HASH.
  const layout = tableLayout(config(D2).warehouse, config(D2).dataset, 'people');
  const hidden = sensitiveLayout(config(D2).warehouse, config(D2).dataset, 'people');
  const joined = await h.engine.withSession((s) =>
    s.rows<{ id: number; ssn: string; seen: string }>(
      `SELECT c.id, s.ssn, c.seen FROM ${quoteLiteral(layout.current)} c JOIN ${quoteLiteral(hidden.current)} s USING (KEY_HASH) ORDER BY c.id`,
    ),
  );
  expect(joined.find((r) => r.id === 4)).toEqual({ id: 4, ssn: 'ssn-new', seen: 'a' });
  expect(joined.find((r) => r.id === 5)).toEqual({ id: 5, ssn: 'ssn-5', seen: 'b' });
  const columns = await h.engine.withSession((s) => s.rows<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${quoteLiteral(layout.current)})`));
  expect(columns.map((c) => c.column_name)).not.toContain('ssn');
});

/** A TCP port that refuses connections until `open()` forwards it to the test cluster. */
async function flakyPostgres(): Promise<{ url: string; open(): Promise<void>; close(): void }> {
  const target = new URL(process.env[PG_URL_VAR]!);
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const sock of [client, upstream]) {
      sockets.add(sock);
      sock.on('error', () => undefined);
      sock.on('close', () => sockets.delete(sock));
    }
    client.pipe(upstream).pipe(client);
  });
  const url = new URL(target.toString());
  url.port = String(port);
  return {
    url: url.toString(),
    open: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test('a PostgreSQL sink that refuses connections is retried while the run waits, and the run completes', async () => {
  const flaky = await flakyPostgres();
  const variable = `CDCFLOW_TEST_FLAKY_${randomBytes(3).toString('hex').toUpperCase()}`;
  process.env[variable] = flaky.url;
  const schema = `f_${randomBytes(4).toString('hex')}`;
  try {
    const { config } = datasetWith('flaky', [{ type: 'postgres', connection: variable, schema }]);
    const run = runDataset(h, config(D1), D1);
    const workflowId = tableWorkflowId(config(D1).dataset, D1, 'people');
    let seen: { attempt: number; message: string } | undefined;
    for (const deadline = Date.now() + 60_000; !seen && Date.now() < deadline; await sleep(200)) {
      const described = await h.client.workflow.getHandle(workflowId).describe().catch(() => undefined);
      const pending = described?.raw.pendingActivities?.find((a) => a.activityType?.name === 'applySink' && (a.attempt ?? 0) >= 3);
      if (pending) seen = { attempt: pending.attempt!, message: pending.lastFailure?.message ?? '' };
    }
    expect(seen?.message).toMatch(/^sink postgres \(postgres\): .*(connect|refused)/i);
    expect(seen?.message).not.toContain(flaky.url);
    await flaky.open();
    const result = tableResult(await run, 'people');
    expect(result.sinks?.[0].applied.map((a) => a.businessDate)).toEqual([D1]);
    expect(psql(`SELECT count(*) FROM ${quoteIdent(schema)}.people_current`)).toBe('10');
  } finally {
    flaky.close();
    delete process.env[variable];
  }
});

test('a sink two dates behind catches up in date order on the next run', async () => {
  const schema = `c_${randomBytes(4).toString('hex')}`;
  const sink = { type: 'postgres', connection: PG_URL_VAR, schema };
  const withSink = datasetWith('catchup', [sink]);
  tableResult(await runDataset(h, withSink.config(D1), D1), 'people');
  // Days 2 and 3 run without the sink (as if it had been left out), day 4 with it again.
  for (const date of [D2, D3]) tableResult(await runDataset(h, withSink.config(date, false), date), 'people');
  const result = tableResult(await runDataset(h, withSink.config(D4), D4), 'people');
  expect(result.sinks?.[0].applied.map((a) => a.businessDate)).toEqual([D2, D3, D4]);
  const markers = psql(`SELECT business_date || ' ' || (applied_at > (SELECT applied_at FROM ${quoteIdent(schema)}.cdcflow_applied m WHERE m.business_date = a.business_date - 1)) FROM ${quoteIdent(schema)}.cdcflow_applied a WHERE business_date > DATE '${D1}' ORDER BY business_date`);
  expect(markers.split('\n')).toEqual([`${D2} true`, `${D3} true`, `${D4} true`]);
  const check = await expectSinkEqualsExports(withSink.config(D4), 'postgres', '', schema);
  expect(check).toMatchObject({ current: { diff: 0 }, history: { diff: 0 }, sensitiveCurrent: { diff: 0 }, sensitiveHistory: { diff: 0 } });

  // Day 4 again with other input: a new commit of the date, so the sink's current is rebuilt.
  writeCsv(path.join(withSink.folder, 'in', `${D4}.csv`), HEADER, DAYS[D3].slice(2));
  const rerun = tableResult(await runDataset(h, withSink.config(D4), D4), 'people');
  expect(rerun.sinks?.[0].applied.map((a) => [a.businessDate, a.rebuilt])).toEqual([[D4, true]]);
  const rebuilt = await expectSinkEqualsExports(withSink.config(D4), 'postgres', '', schema);
  expect(rebuilt).toMatchObject({ current: { diff: 0, rows: 7 }, history: { diff: 0 }, sensitiveCurrent: { diff: 0 }, sensitiveHistory: { diff: 0 } });

  // cdcflow status reads each sink's last applied date from the sink.
  const configPath = path.join(withSink.folder, 'dataset.yaml');
  const status = await cdcflow(['status', '--config', configPath, '--days', '1', '--json'], { TEMPORAL_ADDRESS: h.settings.address });
  expect(JSON.parse(status.stdout).sinks).toEqual([{ table: 'people', sink: 'postgres', type: 'postgres', lastApplied: D4 }]);
  const plain = await cdcflow(['status', '--config', configPath, '--days', '1'], { TEMPORAL_ADDRESS: h.settings.address });
  expect(plain.stdout).toMatch(/people\s+postgres \(postgres\)\s+2024-01-04/);
});

test('a sink table dropped by hand is rebuilt from the first date on the next run, not created again nearly empty', async () => {
  const { schema, file, config } = withBothSinks('dropped');
  tableResult(await runDataset(h, config(D1), D1), 'people');
  psql(`DROP TABLE ${quoteIdent(schema)}.people_current`);
  await inSinkFile(file, `DROP TABLE ${quoteIdent(schema)}.people_history`);
  const equal = { current: { diff: 0, rows: 10 }, history: { diff: 0 }, sensitiveCurrent: { diff: 0 }, sensitiveHistory: { diff: 0 } };

  // Day 2 changes 8 of the keys: applied alone, the sink would miss D1's history and 4 current rows.
  const d2 = tableResult(await runDataset(h, config(D2), D2), 'people');
  for (const kind of ['duckdb', 'postgres'] as const) {
    const check = await expectSinkEqualsExports(config(D2), kind, file, schema);
    expect({ kind, ...check }).toMatchObject(equal);
    expect(check.markers.map((m) => m.business_date)).toEqual([D1, D2]);
  }
  const applied = (r: typeof d2) => r.sinks?.map((s) => [s.sink, s.applied.map((a) => `${a.businessDate}${a.rebuilt ? ' rebuilt' : ''}`), s.lastApplied]);
  expect(applied(d2)).toEqual([
    ['duckdb', [`${D1} rebuilt`, D2], D2],
    ['app', [`${D1} rebuilt`, D2], D2],
  ]);

  // A sensitive table dropped: the same date again (nothing new committed) rebuilds the sink.
  psql(`DROP TABLE ${quoteIdent(`${schema}_sensitive`)}.people_history`);
  const again = tableResult(await runDataset(h, config(D2), D2), 'people');
  expect(applied(again)).toEqual([
    ['duckdb', [], D2],
    ['app', [`${D1} rebuilt`, `${D2} rebuilt`], D2],
  ]);
  expect(await expectSinkEqualsExports(config(D2), 'postgres', file, schema)).toMatchObject(equal);
});

test('a sink column whose type was changed by hand fails the table at once, naming it, instead of rounding values or retrying', async () => {
  const { schema, file, config } = withBothSinks('retyped');
  tableResult(await runDataset(h, config(D1), D1), 'people');
  // PostgreSQL: a decimal column made integer (4.50 would be stored as 5); the file: a text column made integer (no insert fits).
  psql(`ALTER TABLE ${quoteIdent(schema)}.people_current ALTER amount TYPE integer`);
  await inSinkFile(file, `ALTER TABLE ${quoteIdent(schema)}.people_history ALTER name TYPE integer USING length(name)`);

  const outcome = await withTimeout(runDataset(h, config(D2), D2), 60_000, () => 'the run did not end within 60 s (the sinks retried?)');
  const error = failedTable(outcome, 'people');
  expect(error).toContain('2 of 2 sink(s) not applied');
  expect(error).toContain(`"${schema}"."people_current" column "amount" is integer (cdcflow writes numeric(12,2))`);
  expect(error).toContain(`"${schema}"."people_history" column "name" is INTEGER (cdcflow writes VARCHAR)`);
  expect(error).toMatch(/sink=app\b/);
  const attempts = await activityAttempts(h.client, tableWorkflowId(config(D2).dataset, D2, 'people'));
  expect(attempts.applySink).toEqual([1, 1]);
  // The commit stands; the altered tables dropped, the next run rebuilds them.
  psql(`DROP TABLE ${quoteIdent(schema)}.people_current`);
  await inSinkFile(file, `DROP TABLE ${quoteIdent(schema)}.people_history`);
  tableResult(await runDataset(h, config(D2), D2), 'people');
  for (const kind of ['duckdb', 'postgres'] as const) {
    expect({ kind, ...(await expectSinkEqualsExports(config(D2), kind, file, schema)) }).toMatchObject({ current: { diff: 0, rows: 10 }, history: { diff: 0 } });
  }
});

/** The marker dates of the dataset in the sink (PostgreSQL, or the DuckDB file when given). */
async function markerDates(config: DatasetConfig, schema: string, file?: string): Promise<string[]> {
  const marker = (db: string) => `${db}${quoteIdent(schema)}.cdcflow_applied WHERE dataset = ${quoteLiteral(config.dataset)}`;
  if (!file) return psql(`SELECT business_date FROM ${marker('')} ORDER BY 1`).split('\n');
  const rows = await h.engine.withSession((s) =>
    withSinkDb(s, 'duckdb', file, (db) => s.rows<{ d: string }>(`SELECT CAST(business_date AS VARCHAR) AS d FROM ${marker(`${db}.`)} ORDER BY 1`)),
  );
  return rows.map((r) => r.d);
}

test('a sink column narrowed by hand, or an extra NOT NULL column without a default, fails the table at once, naming them, instead of retrying', async () => {
  const { schema, file, config } = withBothSinks('narrowed');
  tableResult(await runDataset(h, config(D1), D1), 'people');
  const main = quoteIdent(schema);
  // PostgreSQL: DuckDB reads these back as VARCHAR and TIMESTAMP WITH TIME ZONE, as cdcflow's own; day 2's "n10" does not fit.
  psql(`ALTER TABLE ${main}.people_current ALTER name TYPE varchar(2)`);
  psql(`ALTER TABLE ${main}.cdcflow_applied ALTER applied_at TYPE timestamptz(0)`);
  psql(`ALTER TABLE ${main}.people_history ADD note text NOT NULL DEFAULT ''; ALTER TABLE ${main}.people_history ALTER note DROP DEFAULT`);
  // Extra columns an insert can leave out are no concern.
  psql(`ALTER TABLE ${main}.people_current ADD remark text, ADD flagged boolean NOT NULL DEFAULT false`);
  for (const sql of ["ADD COLUMN note VARCHAR DEFAULT ''", 'ALTER note SET NOT NULL', 'ALTER note DROP DEFAULT']) {
    await inSinkFile(file, `ALTER TABLE ${main}.people_current ${sql}`);
  }

  const outcome = await withTimeout(runDataset(h, config(D2), D2), 60_000, () => 'the run did not end within 60 s (the sinks retried?)');
  const error = failedTable(outcome, 'people');
  expect(error).toContain('2 of 2 sink(s) not applied');
  expect(error).toContain(`"${schema}"."people_current" column "name" is character varying(2) (cdcflow writes character varying)`);
  expect(error).toContain(`"${schema}".cdcflow_applied column "applied_at" is timestamp(0) with time zone (cdcflow writes timestamp with time zone)`);
  expect(error).toContain(`"${schema}"."people_history" column "note" is NOT NULL without a default (cdcflow does not write it)`);
  expect(error).toMatch(new RegExp(`"people_current" column "note" is NOT NULL without a default \\(cdcflow does not write it\\)[^;]*sink=duckdb\\b`));
  expect(error).not.toMatch(/remark|flagged/);
  expect(error).toMatch(/sink=app\b/);
  expect((await activityAttempts(h.client, tableWorkflowId(config(D2).dataset, D2, 'people'))).applySink).toEqual([1, 1]);
  expect(await markerDates(config(D2), schema)).toEqual([D1]);
  expect(await markerDates(config(D2), schema, file)).toEqual([D1]);

  // The columns given their types again and the NOT NULL ones dropped: the next run applies day 2.
  psql(`ALTER TABLE ${main}.people_current ALTER name TYPE varchar`);
  psql(`ALTER TABLE ${main}.cdcflow_applied ALTER applied_at TYPE timestamptz`);
  psql(`ALTER TABLE ${main}.people_history DROP note`);
  await inSinkFile(file, `ALTER TABLE ${main}.people_current DROP note`);
  const fixed = tableResult(await runDataset(h, config(D2), D2), 'people');
  expect(fixed.sinks?.map((s) => [s.sink, s.applied.map((a) => a.businessDate)])).toEqual([
    ['duckdb', [D2]],
    ['app', [D2]],
  ]);
});

test('rows a PostgreSQL sink refuses (a CHECK constraint added by hand) fail the sink at once, naming table and reason, and leave the sink as it was', async () => {
  const schema = `k_${randomBytes(4).toString('hex')}`;
  const current = `${quoteIdent(schema)}.people_current`;
  const { config } = datasetWith('refused', [{ type: 'postgres', name: 'app', connection: PG_URL_VAR, schema }]);
  tableResult(await runDataset(h, config(D1), D1), 'people');
  // Day 1's names have 2 characters; day 2 inserts "n10" and "n11".
  psql(`ALTER TABLE ${current} ADD CONSTRAINT short_name CHECK (length(name) <= 2)`);
  const rows = () => psql(`SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM ${current}`);
  const before = rows();

  const outcome = await withTimeout(runDataset(h, config(D2), D2), 60_000, () => 'the run did not end within 60 s (the sink retried?)');
  const error = failedTable(outcome, 'people');
  expect(error).toContain(
    `PostgreSQL refused the rows of ${D2} for "${schema}"."people_current": new row for relation "people_current" violates check constraint "short_name" (SQLSTATE 23514)`,
  );
  expect(error).toMatch(/sink=app\b/);
  expect((await activityAttempts(h.client, tableWorkflowId(config(D2).dataset, D2, 'people'))).applySink).toEqual([1]);
  expect(rows()).toBe(before);
  expect(psql(`SELECT count(*) FROM ${quoteIdent(schema)}.people_history`)).toBe('10');
  expect(await markerDates(config(D2), schema)).toEqual([D1]);

  psql(`ALTER TABLE ${current} DROP CONSTRAINT short_name`);
  const fixed = tableResult(await runDataset(h, config(D2), D2), 'people');
  expect(fixed.sinks?.[0].applied.map((a) => a.businessDate)).toEqual([D2]);
  expect(await expectSinkEqualsExports(config(D2), 'postgres', '', schema)).toMatchObject({ current: { diff: 0, rows: 10 }, history: { diff: 0 } });
});

test('a sink that refuses to be emptied for a rebuild (a trigger added by hand) fails at once, naming table and reason; without it, the rebuild applies', async () => {
  const schema = `t_${randomBytes(4).toString('hex')}`;
  const current = `${quoteIdent(schema)}.people_current`;
  const { config } = datasetWith('kept', [{ type: 'postgres', name: 'app', connection: PG_URL_VAR, schema }]);
  tableResult(await runDataset(h, config(D1), D1), 'people');
  psql(
    `CREATE FUNCTION ${quoteIdent(schema)}.keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'people are kept for audit'; END $$; ` +
      `CREATE TRIGGER keep BEFORE DELETE ON ${current} FOR EACH ROW EXECUTE FUNCTION ${quoteIdent(schema)}.keep()`,
  );
  // A table dropped by hand: the next run empties the others to apply every date again.
  psql(`DROP TABLE ${quoteIdent(schema)}.people_history`);

  const outcome = await withTimeout(runDataset(h, config(D2), D2), 60_000, () => 'the run did not end within 60 s (the sink retried?)');
  expect(failedTable(outcome, 'people')).toContain(
    `PostgreSQL refused the emptying of its tables (to apply every date again) for "${schema}"."people_current": people are kept for audit (SQLSTATE P0001)`,
  );
  expect((await activityAttempts(h.client, tableWorkflowId(config(D2).dataset, D2, 'people'))).applySink).toEqual([1]);
  expect(psql(`SELECT count(*) FROM ${current}`)).toBe('10');
  expect(await markerDates(config(D2), schema)).toEqual([D1]);

  psql(`DROP TRIGGER keep ON ${current}`);
  const fixed = tableResult(await runDataset(h, config(D2), D2), 'people');
  expect(fixed.sinks?.[0].applied.map((a) => `${a.businessDate}${a.rebuilt ? ' rebuilt' : ''}`)).toEqual([`${D1} rebuilt`, D2]);
  expect(await expectSinkEqualsExports(config(D2), 'postgres', '', schema)).toMatchObject({ current: { diff: 0, rows: 10 }, history: { diff: 0 } });
});

test('a PostgreSQL sink whose connection string has a bad option fails at once, not after 10 attempts, and keeps the password out', async () => {
  const variable = `CDCFLOW_TEST_BAD_OPTION_${randomBytes(3).toString('hex').toUpperCase()}`;
  const url = new URL(process.env[PG_URL_VAR]!);
  url.searchParams.set('sslmode', 'bogus');
  process.env[variable] = url.toString();
  try {
    const { config } = datasetWith('badoption', [{ type: 'postgres', connection: variable, schema: `o_${randomBytes(4).toString('hex')}` }]);
    const outcome = await withTimeout(runDataset(h, config(D1), D1), 30_000, () => 'the run did not end within 30 s (the sink retried?)');
    const error = failedTable(outcome, 'people');
    expect(error).toContain('cannot connect to PostgreSQL');
    expect(error).toContain('invalid sslmode value: "bogus"');
    expect(JSON.stringify(outcome)).not.toContain(url.password);
    expect((await activityAttempts(h.client, tableWorkflowId(config(D1).dataset, D1, 'people'))).applySink).toEqual([1]);
  } finally {
    delete process.env[variable];
  }
});

test('a text value PostgreSQL cannot hold (a NUL character) fails the PostgreSQL sink at once, naming column and key; fixed at the source, the date applies', async () => {
  const schema = `z_${randomBytes(4).toString('hex')}`;
  const { config, folder } = datasetWith('nul', [{ type: 'postgres', name: 'app', connection: PG_URL_VAR, schema }]);
  const rows = DAYS[D1].map((r) => [...r]);
  rows[3][1] = 'n\u00003';
  writeCsv(path.join(folder, 'in', `${D1}.csv`), HEADER, rows);

  const outcome = await withTimeout(runDataset(h, config(D1), D1), 60_000, () => 'the run did not end within 60 s (the sink retried?)');
  const error = failedTable(outcome, 'people');
  expect(error).toContain('column "name" of the row with key (id=3) holds a NUL character, which PostgreSQL cannot store in text');
  expect(error).toMatch(/sink=app\b/);
  expect((await activityAttempts(h.client, tableWorkflowId(config(D1).dataset, D1, 'people'))).applySink).toEqual([1]);
  expect((await markerDates(config(D1), schema)).filter(Boolean)).toEqual([]);

  writeCsv(path.join(folder, 'in', `${D1}.csv`), HEADER, DAYS[D1]);
  const fixed = tableResult(await runDataset(h, config(D1), D1), 'people');
  expect(fixed.sinks?.[0].applied.map((a) => a.businessDate)).toEqual([D1]);
  expect(await expectSinkEqualsExports(config(D1), 'postgres', '', schema)).toMatchObject({ current: { diff: 0, rows: 10 }, history: { diff: 0 } });
});

test('a PostgreSQL sink in a LATIN1 database holds the text as it is; a character LATIN1 lacks fails the sink at once, naming column and key', async () => {
  psql('DROP DATABASE IF EXISTS cdcflow_sink_latin1');
  psql(`CREATE DATABASE cdcflow_sink_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
  const variable = 'CDCFLOW_TEST_SINK_LATIN1';
  process.env[variable] = process.env[PG_URL_VAR]!.replace(/\/cdcflow($|\?)/, '/cdcflow_sink_latin1$1');
  try {
    const schema = `l_${randomBytes(4).toString('hex')}`;
    const { config, folder } = datasetWith('latin1', [{ type: 'postgres', name: 'app', connection: variable, schema }]);
    const day1 = DAYS[D1].map((r) => [...r]);
    [day1[1][1], day1[2][1], day1[3][1]] = ['café', 'Ã©', 'ÿ'];
    writeCsv(path.join(folder, 'in', `${D1}.csv`), HEADER, day1);
    tableResult(await runDataset(h, config(D1), D1), 'people');
    // The sink's bytes in LATIN1 (hex, whatever psql's client encoding). Before, the UTF-8 bytes
    // were stored as Latin-1 characters: café as cafÃ© (636166c3a9), Ã© as Ã\u0083Â© (c383c2a9).
    const latin1 = psql(`SELECT string_agg(encode(convert_to(name, 'LATIN1'), 'hex'), ' ' ORDER BY id) FROM ${schema}.people_current WHERE id IN (1, 2, 3)`, process.env[variable]);
    expect(latin1).toBe('636166e9 c3a9 ff');

    const day2 = DAYS[D2].map((r) => [...r]);
    day2[4][1] = 'n€4';
    writeCsv(path.join(folder, 'in', `${D2}.csv`), HEADER, day2);
    const outcome = await withTimeout(runDataset(h, config(D2), D2), 60_000, () => 'the run did not end within 60 s (the sink retried?)');
    expect(failedTable(outcome, 'people')).toContain(
      `column "name" of the row with key (id=4) holds the character "€" (U+20AC), which the sink database's encoding, LATIN1, lacks. Nothing of ${D2} was applied to the sink`,
    );
    expect((await activityAttempts(h.client, tableWorkflowId(config(D2).dataset, D2, 'people'))).applySink).toEqual([1]);
  } finally {
    delete process.env[variable];
  }
});

test('a PostgreSQL sink whose role lacks a privilege fails at once, naming it; granted, the date applies', async () => {
  const role = `cdcflow_r_${randomBytes(3).toString('hex')}`;
  psql(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
  const url = new URL(process.env[PG_URL_VAR]!);
  url.username = role;
  url.password = 'pw';
  const variable = `CDCFLOW_TEST_${role.toUpperCase()}`;
  process.env[variable] = url.toString();
  try {
    const schema = `r_${randomBytes(4).toString('hex')}`;
    const { config } = datasetWith('norights', [{ type: 'postgres', name: 'app', connection: variable, schema }]);
    const outcome = await withTimeout(runDataset(h, config(D1), D1), 60_000, () => 'the run did not end within 60 s (the sink retried?)');
    const error = failedTable(outcome, 'people');
    expect(error).toContain(`PostgreSQL refused the role of $${variable} a privilege: permission denied for database`);
    expect(error).toMatch(/sink=app\b/);
    expect((await activityAttempts(h.client, tableWorkflowId(config(D1).dataset, D1, 'people'))).applySink).toEqual([1]);

    const database = url.pathname.slice(1);
    psql(`GRANT CREATE ON DATABASE "${database}" TO ${role}`);
    const granted = tableResult(await runDataset(h, config(D1), D1), 'people');
    expect(granted.sinks?.[0].applied.map((a) => a.businessDate)).toEqual([D1]);
  } finally {
    delete process.env[variable];
  }
});

test('a column unmarked sensitive moves into the sinks\' main tables with its values, and back when marked again: every date is applied again', async () => {
  const { schema, file, config } = withBothSinks('moved');
  const rebuilt = (outcome: RunOutcome) => tableResult(outcome, 'people').sinks?.map((r) => r.applied.map((a) => `${a.businessDate} ${a.rebuilt}`));
  /** Per sink: the main current state's ssn by id, how many of the history rows lack it, and the sensitive current state's ssn values. */
  const ssnIn = (kind: 'duckdb' | 'postgres') =>
    h.engine.withSession((s) =>
      withSinkDb(s, kind, file, async (db) => {
        const main = await s.rows<{ id: number; ssn: string | null }>(`SELECT id, ssn FROM ${db}.${schema}.people_current ORDER BY id`);
        const [history] = await s.rows<{ n: number; without: number }>(
          `SELECT count(*)::INT AS n, count(*) FILTER (WHERE ssn IS NULL)::INT AS without FROM ${db}.${schema}.people_history`,
        );
        const hidden = await s.rows<{ ssn: string }>(`SELECT ssn FROM ${db}.${schema}_sensitive.people_current ORDER BY ssn`);
        return { main: main.map((r) => `${r.id}:${r.ssn}`), history: `${history.without} of ${history.n} without`, hidden: hidden.map((r) => r.ssn) };
      }),
    );
  const day2Ssn = [0, 1, 2, 3, 4, 5, 6, 7, 10, 11].map((id) => `${id}:${id === 4 ? 'ssn-new' : `ssn-${id}`}`);
  const day3Ssn = Array.from({ length: 9 }, (_, id) => `${id}:ssn-${id}`);

  tableResult(await runDataset(h, config(D1), D1), 'people');
  // Unmarked: the old code refused the sinks' main tables as lacking "ssn" (a ConfigError), so no date applied again.
  const unmarked = await runDataset(h, config(D2, true, false), D2);
  expect(rebuilt(unmarked)).toEqual([[`${D1} true`, `${D2} false`], [`${D1} true`, `${D2} false`]]);
  // History: day 1's 10 inserts, day 2's 2 deletes, 4 updates (one by ssn alone) and 2 inserts.
  for (const kind of ['duckdb', 'postgres'] as const) expect(await ssnIn(kind)).toEqual({ main: day2Ssn, history: '0 of 18 without', hidden: [] });

  // Marked again: the values leave the main tables.
  const marked = await runDataset(h, config(D3), D3);
  expect(rebuilt(marked)).toEqual([[`${D1} true`, `${D2} true`, `${D3} false`], [`${D1} true`, `${D2} true`, `${D3} false`]]);
  for (const kind of ['duckdb', 'postgres'] as const) {
    const state = await ssnIn(kind);
    expect(state).toMatchObject({ main: day3Ssn.map((r) => r.replace(/:.*/, ':null')), hidden: day3Ssn.map((r) => r.replace(/^\d+:/, '')).sort() });
    expect(state.history).toMatch(/^(\d+) of \1 without$/);
  }

  // Unmarked again, where the main tables still have the column (without values): the old code applied the date
  // alone, leaving every earlier row's ssn NULL, with exit 0.
  const again = await runDataset(h, config(D4, true, false), D4);
  expect(rebuilt(again)).toEqual([[`${D1} true`, `${D2} true`, `${D3} true`, `${D4} false`], [`${D1} true`, `${D2} true`, `${D3} true`, `${D4} false`]]);
  const day4 = await ssnIn('postgres');
  expect(day4).toMatchObject({ history: expect.stringMatching(/^0 of \d+ without$/), hidden: [] });
  expect(day4.main).toEqual(Array.from({ length: 9 }, (_, i) => `${i + 1}:ssn-${i}`));
  expect(await ssnIn('duckdb')).toEqual(day4);
  // Nothing moved since: the date again applies nothing.
  expect(rebuilt(await runDataset(h, config(D4, true, false), D4))).toEqual([[], []]);
});

test('a column marked sensitive and then unmarked gets its values back in the sinks\' main tables', async () => {
  const { schema, file, config } = withBothSinks('back');
  // Day 3 is day 2 again, but for one update.
  writeCsv(path.join(dir, 'back', 'in', `${D3}.csv`), HEADER, DAYS[D2].map((r) => (r[0] === 0 ? [0, 'changed', ...r.slice(2)] : r)));
  for (const [date, sensitive] of [[D1, false], [D2, true], [D3, false]] as const) tableResult(await runDataset(h, config(date, true, sensitive), date), 'people');
  // The old code applied day 3 alone to main tables whose ssn the rebuild of day 2 had left NULL: only the history rows of
  // day 3 had one (and the current rows, which a table with ignored columns takes whole from the latest date).
  for (const kind of ['duckdb', 'postgres'] as const) {
    const ssn = await h.engine.withSession((s) =>
      withSinkDb(s, kind, file, async (db) => ({
        current: await s.rows(`SELECT id, ssn FROM ${db}.${schema}.people_current ORDER BY id`),
        history: await s.rows(`SELECT CAST(EFF_START_DATE AS VARCHAR) AS day, count(ssn)::INT AS ssn, count(*)::INT AS n FROM ${db}.${schema}.people_history GROUP BY ALL ORDER BY 1`),
      })),
    );
    expect(ssn).toEqual({
      current: DAYS[D2].map((r) => ({ id: r[0], ssn: r[3] })),
      history: [
        { day: D1, ssn: 10, n: 10 },
        { day: D2, ssn: 8, n: 8 },
        { day: D3, ssn: 1, n: 1 },
      ],
    });
  }
});

/** Another process (a person's DuckDB session) holding the DuckDB file open, until `close()`. */
async function holdOpen(file: string, mode: 'READ_ONLY' | 'READ_WRITE'): Promise<{ close(): void }> {
  const script =
    "const { DuckDBInstance } = require('@duckdb/node-api');" +
    `DuckDBInstance.create(${JSON.stringify(file)}, { access_mode: '${mode}' }).then((i) => i.connect()).then(() => console.log('open'), (e) => { console.error(e); process.exit(1); });` +
    'setInterval(() => undefined, 1000);';
  const holder = spawn(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`the process holding ${file} exited with ${code}`)));
  });
  return { close: () => holder.kill() };
}

test('a DuckDB sink file open in another process: the apply retries, naming the file, and applies once it is closed; status reads it beside a reader', async () => {
  const schema = `o_${randomBytes(4).toString('hex')}`;
  const { config, folder } = datasetWith('held', [{ type: 'duckdb', path: 'sink/analytics.duckdb', schema }]);
  const file = path.join(folder, 'sink', 'analytics.duckdb');
  tableResult(await runDataset(h, config(D1), D1), 'people');

  const reader = await holdOpen(file, 'READ_ONLY');
  try {
    // The README's way to look at the file: read-only. Status reads its markers beside it.
    const status = await cdcflow(['status', '--config', path.join(folder, 'dataset.yaml'), '--days', '1', '--json'], { TEMPORAL_ADDRESS: h.settings.address });
    expect(JSON.parse(status.stdout).sinks).toEqual([{ table: 'people', sink: 'duckdb', type: 'duckdb', lastApplied: D1 }]);
  } finally {
    reader.close();
  }

  const writer = await holdOpen(file, 'READ_WRITE');
  const run = runDataset(h, config(D2), D2);
  let retried = '';
  try {
    const workflowId = tableWorkflowId(config(D2).dataset, D2, 'people');
    for (const deadline = Date.now() + 30_000; !retried && Date.now() < deadline; await sleep(200)) {
      const described = await h.client.workflow.getHandle(workflowId).describe().catch(() => undefined);
      const pending = described?.raw.pendingActivities?.find((a) => a.activityType?.name === 'applySink' && (a.attempt ?? 0) >= 2);
      retried = pending?.lastFailure?.message ?? '';
    }
  } finally {
    writer.close();
  }
  // (The worker prefixes `sink duckdb (duckdb): `; DuckDB's errors escape jest's `instanceof Error`, so not here.)
  expect(retried).toContain(`IO Error: Could not set lock on file "${file}": Conflicting lock is held in`);
  expect(tableResult(await run, 'people').sinks?.[0].applied.map((a) => a.businessDate)).toEqual([D2]);
  expect(await expectSinkEqualsExports(config(D2), 'duckdb', file, schema)).toMatchObject({ current: { diff: 0 }, history: { diff: 0, rows: 18 } });
});

test('a date whose sinks failed, caught up by a later date\'s run: retry finds nothing to do, and no history row is applied twice', async () => {
  const role = `cdcflow_c_${randomBytes(3).toString('hex')}`;
  const url = new URL(process.env[PG_URL_VAR]!);
  psql(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'; GRANT CREATE ON DATABASE "${url.pathname.slice(1)}" TO ${role}`);
  url.username = role;
  url.password = 'pw';
  const variable = `CDCFLOW_TEST_${role.toUpperCase()}`;
  process.env[variable] = url.toString();
  try {
    const [good, bad] = [`g_${randomBytes(4).toString('hex')}`, `b_${randomBytes(4).toString('hex')}`];
    const { config, folder } = datasetWith('caughtup', [
      { type: 'postgres', name: 'good', connection: PG_URL_VAR, schema: good },
      { type: 'postgres', name: 'bad', connection: variable, schema: bad },
    ]);
    tableResult(await runDataset(h, config(D1), D1), 'people');
    psql(`REVOKE INSERT ON ${quoteIdent(bad)}.people_history FROM ${role}`);
    const failed = failedTable(await runDataset(h, config(D2), D2), 'people');
    expect(failed).toMatch(/^1 of 2 sink\(s\) not applied \(the commit stands; .*permission denied for table people_history.*sink=bad\)/);
    expect(await markerDates(config(D2), good)).toEqual([D1, D2]);
    expect(await markerDates(config(D2), bad)).toEqual([D1]);

    psql(`GRANT INSERT ON ${quoteIdent(bad)}.people_history TO ${role}`);
    const d3 = tableResult(await runDataset(h, config(D3), D3), 'people');
    expect(d3.sinks?.map((r) => [r.sink, r.applied.map((a) => a.businessDate)])).toEqual([
      ['good', [D3]],
      ['bad', [D2, D3]],
    ]);
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue, [variable]: url.toString() };
    const retried = await cdcflow(['retry', '--config', path.join(folder, 'dataset.yaml'), '--date', D2], env);
    expect(retried).toMatchObject({ code: 0, stdout: `nothing to retry: no table of ${config(D2).dataset} failed on ${D2}\n` });
    expect(retried.stderr).toContain(`people: only its sinks failed on ${D2} (the date is committed), and its run of ${D3} has brought them up to date since: nothing to retry`);
    for (const schema of [good, bad]) {
      expect(await markerDates(config(D3), schema)).toEqual([D1, D2, D3]);
      expect(await expectSinkEqualsExports(config(D3), 'postgres', '', schema)).toMatchObject({ current: { diff: 0 }, history: { diff: 0 } });
    }
  } finally {
    delete process.env[variable];
  }
});

test('a sink that missed dates of a delta table holds the ignored columns of rows the latest date did not supply, as current.parquet does', async () => {
  const schema = `x_${randomBytes(4).toString('hex')}`;
  const folder = path.join(dir, 'deltaignored');
  mkdirSync(path.join(folder, 'in'), { recursive: true });
  // Key 1 changes only in the ignored column on day 2 (an N row, no history row), and day 3 does not supply it (X).
  writeCsv(path.join(folder, 'in', `${D1}.csv`), ['id', 'name', 'seen'], [[1, 'a', 'day1'], [2, 'b', 'day1']]);
  writeCsv(path.join(folder, 'in', `${D2}.csv`), ['id', 'name', 'seen'], [[1, 'a', 'day2']]);
  writeCsv(path.join(folder, 'in', `${D3}.csv`), ['id', 'name', 'seen'], [[2, 'b2', 'day3']]);
  const table = (sinks: object[]) => ({
    name: 'people',
    mode: 'delta',
    keys: [{ name: 'id', type: 'integer' }],
    columns: [
      { name: 'name', type: 'varchar' },
      { name: 'seen', type: 'varchar' },
    ],
    ignore: ['seen'],
    source: { format: 'csv', path: 'in/{date}.csv' },
    sinks,
  });
  const dataset = uniqueDataset('deltaignored');
  const config = (sinks: object[]) => writeConfig(folder, { dataset, warehouse: 'wh', tables: [table(sinks)] });
  // The sink is added on day 3 (as after an outage of days 1 and 2, or a sink added later).
  for (const date of [D1, D2]) tableResult(await runDataset(h, config([]), date), 'people');
  const d3 = tableResult(await runDataset(h, config([{ type: 'postgres', connection: PG_URL_VAR, schema }]), D3), 'people');
  expect(d3.sinks?.[0].applied.map((a) => a.businessDate)).toEqual([D1, D2, D3]);
  const published = await h.engine.withSession((s) =>
    s.rows<{ id: number; name: string; seen: string }>(`SELECT id, name, seen FROM ${quoteLiteral(tableLayout(config([]).warehouse, dataset, 'people').current)} ORDER BY id`),
  );
  expect(published).toEqual([
    { id: 1, name: 'a', seen: 'day2' },
    { id: 2, name: 'b2', seen: 'day3' },
  ]);
  expect(psql(`SELECT id || ' ' || name || ' ' || seen FROM ${quoteIdent(schema)}.people_current ORDER BY id`).split('\n')).toEqual(['1 a day2', '2 b2 day3']);
});

test('a sink whose current rows were deleted by hand (a TRUNCATE, a DELETE) is rebuilt from the first date on the next run', async () => {
  const { schema, file, config } = withBothSinks('truncated');
  tableResult(await runDataset(h, config(D1), D1), 'people');
  psql(`TRUNCATE ${quoteIdent(schema)}.people_current`);
  await inSinkFile(file, `DELETE FROM ${quoteIdent(`${schema}_sensitive`)}.people_current WHERE KEY_HASH IN (SELECT KEY_HASH FROM ${quoteIdent(schema)}.people_current WHERE id = 6)`);

  // Day 2 leaves keys 3 and 5 to 7 alone: applied alone, the PostgreSQL sink would lack them, the file key 6's ssn.
  const d2 = tableResult(await runDataset(h, config(D2), D2), 'people');
  const applied = (r: typeof d2) => r.sinks?.map((s) => [s.sink, s.applied.map((a) => `${a.businessDate}${a.rebuilt ? ' rebuilt' : ''}`)]);
  expect(applied(d2)).toEqual([
    ['duckdb', [`${D1} rebuilt`, D2]],
    ['app', [`${D1} rebuilt`, D2]],
  ]);
  const equal = { current: { diff: 0, rows: 10 }, history: { diff: 0 }, sensitiveCurrent: { diff: 0 }, sensitiveHistory: { diff: 0 } };
  for (const kind of ['duckdb', 'postgres'] as const) expect({ kind, ...(await expectSinkEqualsExports(config(D2), kind, file, schema)) }).toMatchObject({ kind, ...equal });
  // Rows as the sink applied them are not taken for rows changed by hand: the same date again applies nothing.
  expect(applied(tableResult(await runDataset(h, config(D2), D2), 'people'))).toEqual([
    ['duckdb', []],
    ['app', []],
  ]);
});

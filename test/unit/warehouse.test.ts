/** The DuckLake commit's SQL (exact text, hostile names) and which snapshots retention expires. */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../src/engine/duckdb';
import { engineSettings } from '../../src/settings';
import { historyLakeFolder, lakeTables, withCatalog, withSharedCatalog } from '../../src/warehouse/catalog';
import { type CommitRequest, commitDataSql, commitDate, commitMessageSql, createTablesSql, DROP_STATE_ROWS, replacesByDrop } from '../../src/warehouse/commit';
import { type CommitRecord, type CommitTag, commitSnapshots, commitTag, headAndBase } from '../../src/warehouse/commits';
import { StaleBaseError } from '../../src/errors';
import { filesOfCommit } from '../../src/warehouse/publish';
import { applyRetention, MERGE_AT, snapshotsToExpire } from '../../src/warehouse/retention';

const commit: CommitRecord = {
  businessDate: '2024-01-02',
  commitId: 'c-2',
  baseDate: '2024-01-01',
  fingerprint: 'fp',
  shape: 'sh',
  counts: { I: 1, U: 2, D: 3, X: 0, N: 4 },
  currentRows: 7,
  historyRows: 6,
  watermark: '2024-01-02 10:00:00',
  watermarkColumn: 'updated_at',
};
const shape = { keys: [{ name: 'k', type: 'varchar' }], columns: [{ name: 'v', type: 'integer' }] };

/** An engine and a new warehouse whose catalog has the schema "d", for the describe block that calls it. */
function catalogFixture(prefix: string): { engine: Engine; warehouse: string } {
  const fixture = {} as { engine: Engine; warehouse: string };
  beforeAll(async () => {
    fixture.engine = await Engine.create({ extensionDirectory: engineSettings().extensionDirectory });
    fixture.warehouse = mkdtempSync(path.join(tmpdir(), prefix));
    await withCatalog(fixture.engine, fixture.warehouse, (s, alias) => s.run(`CREATE SCHEMA "${alias}"."d"`));
  });
  afterAll(() => fixture.engine.close());
  return fixture;
}

/** A commit of `table` on `date` whose state and history are the one row `k` (its files written here). */
async function oneRowCommit(
  { engine, warehouse }: { engine: Engine; warehouse: string },
  c: { table: string; k: string; date: string; commitId: string; expectedHead: string | null; expectedHeadDate: string | null; currentRows?: number; inDateFolder?: boolean },
): Promise<CommitRequest> {
  const lake = await withCatalog(engine, warehouse, async (_s, alias) => lakeTables(alias, 'd', c.table));
  const historyFolder = c.inDateFolder ? path.join(warehouse, historyLakeFolder(c.date)) : warehouse;
  mkdirSync(historyFolder, { recursive: true });
  const files = { current: [path.join(warehouse, `${c.commitId}-c.parquet`)], history: [path.join(historyFolder, `${c.commitId}-h.parquet`)] };
  const row = `SELECT '${c.k}' AS k, 1 AS v, 'I' AS OPERATION, DATE '${c.date}' AS EFF_START_DATE, uuid() AS KEY_HASH, uuid() AS NONKEY_HASH`;
  await engine.withSession(async (s) => {
    for (const f of [...files.current, ...files.history]) await s.run(`COPY (${row}) TO '${f}' (FORMAT parquet)`);
  });
  const record = { ...commit, businessDate: c.date, commitId: c.commitId, baseDate: null, currentRows: c.currentRows ?? commit.currentRows };
  const t = { ...shape, dataset: 'd', name: c.table, retention: { keepDates: 2 } };
  return { table: t, lake, files, commit: record, tag: commitTag(t, record, files), expectedHead: c.expectedHead, expectedHeadDate: c.expectedHeadDate };
}
const tag = (dataset: string, table: string, date: string, keep = 2): CommitTag => ({ cdcflow: 1, dataset, table, date, commit: `${table}-${date}`, keep });

/** Holds the fixture's catalog connection until `release` is called. */
async function holdCatalog(fixture: { engine: Engine; warehouse: string }): Promise<{ release: () => void; held: Promise<void> }> {
  let release!: () => void;
  let holding!: () => void;
  const holds = new Promise<void>((resolve) => (holding = resolve));
  const held = withCatalog(fixture.engine, fixture.warehouse, async () => {
    holding();
    await new Promise<void>((resolve) => (release = resolve));
  });
  await holds;
  return { release, held };
}

describe('the commit transaction', () => {
  it('names the tables of a dataset schema, quoted', () => {
    const lake = lakeTables('lake_1', 'shop', 'orders');
    expect(lake.current).toBe(`"lake_1"."shop"."orders__current"`);
    expect(lake.head).toBe(`"lake_1"."shop"."orders__head"`);
  });

  it('replaces the state and the date history with the run\'s files, the commit row and the head row', () => {
    const lake = lakeTables('lake_1', 'shop', 'orders');
    const sql = commitDataSql(lake, shape, { current: [`/l/it's.parquet`], history: ['/l/h.parquet'] }, commit);
    expect(sql).toEqual([
      `DELETE FROM ${lake.current}`,
      `CALL ducklake_add_data_files('lake_1', 'orders__current', '/l/it''s.parquet', schema => 'shop')`,
      `DELETE FROM ${lake.history} WHERE EFF_START_DATE = DATE '2024-01-02'`,
      `CALL ducklake_add_data_files('lake_1', 'orders__history', '/l/h.parquet', schema => 'shop')`,
      `DELETE FROM ${lake.commits} WHERE business_date = DATE '2024-01-02'`,
      `INSERT INTO ${lake.commits} VALUES (DATE '2024-01-02', 'c-2', DATE '2024-01-01', 'fp', 'sh', 1, 2, 3, 0, 4, 7, 6, '2024-01-02 10:00:00')`,
      `DELETE FROM ${lake.head}`,
      `INSERT INTO ${lake.head} VALUES ('c-2', DATE '2024-01-02')`,
    ]);
  });

  it('tags the snapshot with the table\'s commit, or with each table\'s of a transaction that commits several', () => {
    expect(commitMessageSql('"lake_1"', [tag('shop', 'orders', '2024-01-02')])).toBe(
      `CALL "lake_1".set_commit_message('cdcflow', 'shop.orders 2024-01-02', extra_info => '{"cdcflow":1,"dataset":"shop","table":"orders","date":"2024-01-02","commit":"orders-2024-01-02","keep":2}')`,
    );
    expect(commitMessageSql('"lake_1"', [tag('shop', 'orders', '2024-01-02'), tag('shop', `it's`, '2024-01-03')])).toBe(
      `CALL "lake_1".set_commit_message('cdcflow', 'shop.orders 2024-01-02, shop.it''s 2024-01-03', extra_info => ` +
        `'{"cdcflow":1,"commits":[{"cdcflow":1,"dataset":"shop","table":"orders","date":"2024-01-02","commit":"orders-2024-01-02","keep":2},` +
        `{"cdcflow":1,"dataset":"shop","table":"it''s","date":"2024-01-03","commit":"it''s-2024-01-03","keep":2}]}')`,
    );
  });

  it('leaves out the deletes of the date when the date is newer than the head (nothing to replace)', () => {
    const lake = lakeTables('lake_1', 'shop', 'orders');
    const sql = commitDataSql(lake, shape, { current: ['/l/c.parquet'], history: ['/l/h.parquet'] }, commit, true);
    expect(sql).toEqual([
      `DELETE FROM ${lake.current}`,
      `CALL ducklake_add_data_files('lake_1', 'orders__current', '/l/c.parquet', schema => 'shop')`,
      `CALL ducklake_add_data_files('lake_1', 'orders__history', '/l/h.parquet', schema => 'shop')`,
      `INSERT INTO ${lake.commits} VALUES (DATE '2024-01-02', 'c-2', DATE '2024-01-01', 'fp', 'sh', 1, 2, 3, 0, 4, 7, 6, '2024-01-02 10:00:00')`,
      `DELETE FROM ${lake.head}`,
      `INSERT INTO ${lake.head} VALUES ('c-2', DATE '2024-01-02')`,
    ]);
  });

  it('empties a large state by dropping its table and creating it again with the same columns', () => {
    const lake = lakeTables('lake_1', 'shop', 'orders');
    const sql = commitDataSql(lake, { keys: [{ name: `it's`, type: 'varchar' }], columns: [] }, { current: ['/l/c.parquet'], history: ['/l/h.parquet'] }, commit, true, true);
    expect(sql.slice(0, 3)).toEqual([
      `DROP TABLE ${lake.current}`,
      `CREATE TABLE ${lake.current} ("it's" VARCHAR, OPERATION VARCHAR, EFF_START_DATE DATE, KEY_HASH UUID, NONKEY_HASH UUID)`,
      `CALL ducklake_add_data_files('lake_1', 'orders__current', '/l/c.parquet', schema => 'shop')`,
    ]);
  });

  it('drops a state only when the state it replaces or writes is large, never at the first commit', () => {
    const sized = (currentRows: number, U: number) => ({ ...commit, currentRows, counts: { I: 0, U, D: 0, X: 0, N: 0 } });
    expect(replacesByDrop(sized(DROP_STATE_ROWS - 1, DROP_STATE_ROWS - 1), 'head')).toBe(false);
    expect(replacesByDrop(sized(DROP_STATE_ROWS, 0), 'head')).toBe(true);
    expect(replacesByDrop({ ...sized(0, 0), counts: { I: 0, U: 1, D: DROP_STATE_ROWS - 3, X: 1, N: 1 } }, 'head')).toBe(true);
    expect(replacesByDrop(sized(DROP_STATE_ROWS, 0), null)).toBe(false);
  });

  it('tags the snapshot with what the next plan needs of the commit', () => {
    const files = { current: ['/l/c-2-2of2.parquet', '/l/c-2-1of2.parquet'], order: ['/l/o.parquet'] };
    expect(commitTag({ dataset: 'shop', name: 'orders', retention: { keepDates: 3 } }, commit, files)).toEqual({
      cdcflow: 1,
      dataset: 'shop',
      table: 'orders',
      date: '2024-01-02',
      commit: 'c-2',
      keep: 3,
      baseDate: '2024-01-01',
      fingerprint: 'fp',
      shape: 'sh',
      watermark: '2024-01-02 10:00:00',
      watermarkColumn: 'updated_at',
      files: { current: ['/l/c-2-1of2.parquet', '/l/c-2-2of2.parquet'], order: ['/l/o.parquet'] },
    });
  });

  it('keeps hostile column names quoted and touches nothing else', async () => {
    const engine = await Engine.create({ extensionDirectory: engineSettings().extensionDirectory });
    const warehouse = mkdtempSync(path.join(tmpdir(), `cdc'flow-wh-`));
    const shape = { keys: [{ name: `k"; DROP TABLE victim; --`, type: 'varchar' }], columns: [{ name: `it's`, type: 'integer' }] };
    try {
      const names = await withCatalog(engine, warehouse, async (s, alias) => {
        await s.run(`CREATE TABLE victim AS SELECT 1 AS x`);
        await s.run(`CREATE SCHEMA IF NOT EXISTS "${alias}"."d"`);
        const lake = lakeTables(alias, 'd', 't');
        for (const sql of createTablesSql(shape, lake)) await s.run(sql);
        const columns = await s.rows<{ name: string }>(`SELECT column_name AS name FROM (DESCRIBE ${lake.current})`);
        const victim = await s.rows(`SELECT * FROM victim`);
        return { columns: columns.map((c) => c.name), victim };
      });
      expect(names.columns).toEqual([shape.keys[0].name, `it's`, 'OPERATION', 'EFF_START_DATE', 'KEY_HASH', 'NONKEY_HASH']);
      expect(names.victim).toEqual([{ x: 1 }]);
    } finally {
      await engine.close();
    }
  });
});

describe('commits that wait for the catalog connection at the same moment', () => {
  const fixture = catalogFixture('cdcflow-group-');

  /** A first commit of `table` on 2024-01-01, planned on `expectedHead`. */
  const request = (table: string, commitId: string, expectedHead: string | null) =>
    oneRowCommit(fixture, { table, k: table, date: '2024-01-01', commitId, expectedHead, expectedHeadDate: null });

  /** Runs the commits while the catalog connection is held, so that they all wait for it. */
  async function whileHeld(requests: CommitRequest[]): Promise<PromiseSettledResult<void>[]> {
    const { release, held } = await holdCatalog(fixture);
    const outcomes = Promise.allSettled(requests.map((r) => commitDate(fixture.engine, fixture.warehouse, r)));
    release();
    await held;
    return outcomes;
  }

  const snapshotsOf = () => withCatalog(fixture.engine, fixture.warehouse, (s, _alias, metadata) => commitSnapshots(s, metadata));

  it('share one transaction, each with its own head check: a stale one is refused, the others commit', async () => {
    const stale = await request('b', 'b-1', 'not-the-head');
    await withCatalog(fixture.engine, fixture.warehouse, async (s) => {
      for (const sql of createTablesSql(shape, stale.lake)) await s.run(sql);
    });
    const outcomes = await whileHeld([await request('a', 'a-1', null), stale, await request('c', 'c-1', null)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(StaleBaseError);
    const tagged = await snapshotsOf();
    expect(tagged.map((t) => t.tag.commit)).toEqual(['a-1', 'c-1']);
    expect(tagged[0].snapshot).toBe(tagged[1].snapshot);
  });

  it('never two of one table: the second sees the first as head and is refused', async () => {
    const outcomes = await whileHeld([await request('e', 'e-1', null), await request('e', 'e-2', null), await request('f', 'f-1', null)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(StaleBaseError);
    const e = await withCatalog(fixture.engine, fixture.warehouse, (s, alias) => s.rows<{ k: string }>(`SELECT k FROM "${alias}"."d"."e__current"`));
    expect(e).toEqual([{ k: 'e' }]);
  });

  it('when the shared transaction fails, each commits on its own: only the broken one fails', async () => {
    const broken = await request('g', 'g-1', null);
    const outcomes = await whileHeld([await request('h', 'h-1', null), { ...broken, files: { ...broken.files, current: [path.join(fixture.warehouse, 'missing.parquet')] } }]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect((await snapshotsOf()).map((t) => t.tag.commit)).toContain('h-1');
  });
});

describe('the published exports', () => {
  it('read a commit\'s own files in bucket order, and nothing of other commits', () => {
    const id = '3a4a81b2-08aa-4c5e-9d7e-0123456789ab';
    const files = [`/l/t__current/cdcflow-${id}-10of12.parquet`, `/l/t__current/cdcflow-${id}-2of12.parquet`, `/l/t__current/cdcflow-x${id}.parquet`, '/l/t__current/ducklake-1.parquet', `s3://b/t__current/cdcflow-${id}-1of12.parquet`];
    expect(filesOfCommit(files, id)).toEqual([`s3://b/t__current/cdcflow-${id}-1of12.parquet`, `/l/t__current/cdcflow-${id}-2of12.parquet`, `/l/t__current/cdcflow-${id}-10of12.parquet`]);
    expect(filesOfCommit([`/l/cdcflow-${id}.parquet`], id)).toEqual([`/l/cdcflow-${id}.parquet`]);
    expect(filesOfCommit([`/l/cdcflow-${id}.parquet`], 'other')).toEqual([]);
  });
});

describe('the head and base commits, from the snapshots\' tags', () => {
  const tagged = (snapshot: number, date: string, baseDate: string | null) => ({
    snapshot,
    tag: commitTag({ dataset: 'd', name: 't', retention: { keepDates: 2 } }, { ...commit, businessDate: date, commitId: `c${snapshot}`, baseDate }, { current: [`/l/c${snapshot}.parquet`] }),
  });
  const planned = (snapshot: number, date: string, baseDate: string | null) => ({
    businessDate: date,
    commitId: `c${snapshot}`,
    baseDate,
    fingerprint: 'fp',
    shape: 'sh',
    watermark: '2024-01-02 10:00:00',
    watermarkColumn: 'updated_at',
    files: { current: [`/l/c${snapshot}.parquet`] },
  });
  const log = [tagged(3, '2024-01-01', null), tagged(5, '2024-01-02', '2024-01-01'), tagged(8, '2024-01-02', '2024-01-01')];

  it('builds a newer date on the latest commit', () => {
    expect(headAndBase(log, '2024-01-03')).toEqual({ latest: planned(8, '2024-01-02', '2024-01-01'), base: { commit: planned(8, '2024-01-02', '2024-01-01'), snapshot: 8 } });
  });

  it('builds the latest date again on the commit the latest was built on', () => {
    expect(headAndBase(log, '2024-01-02')).toEqual({ latest: planned(8, '2024-01-02', '2024-01-01'), base: { commit: planned(3, '2024-01-01', null), snapshot: 3 } });
    expect(headAndBase(log.slice(0, 1), '2024-01-01')).toEqual({ latest: planned(3, '2024-01-01', null), base: null });
  });

  it('names the base date whose snapshot retention expired', () => {
    expect(headAndBase(log.slice(1), '2024-01-02')?.base).toEqual({ expired: '2024-01-01' });
  });

  it('cannot tell without a commit, or from the tags of an older version (the commit log can)', () => {
    const old = (snapshot: number, date: string) => ({ snapshot, tag: tag('d', 't', date) });
    expect(headAndBase([], '2024-01-01')).toBeUndefined();
    expect(headAndBase([old(3, '2024-01-01')], '2024-01-02')).toBeUndefined();
    expect(headAndBase([old(3, '2024-01-01'), tagged(5, '2024-01-02', '2024-01-01')], '2024-01-02')).toBeUndefined();
    expect(headAndBase([old(3, '2024-01-01'), tagged(5, '2024-01-02', '2024-01-01')], '2024-01-03')?.base).toEqual({
      commit: planned(5, '2024-01-02', '2024-01-01'),
      snapshot: 5,
    });
  });
});

describe('retention', () => {
  it('keeps the newest snapshot of each of a table’s newest `keep` dates, and the latest snapshot', () => {
    const commits = [
      { snapshot: 2, tag: tag('d', 'a', '2024-01-01') },
      { snapshot: 3, tag: tag('d', 'b', '2024-01-01') },
      { snapshot: 4, tag: tag('d', 'a', '2024-01-02') },
      { snapshot: 5, tag: tag('d', 'a', '2024-01-02') }, // date re-run: 4 is replaced
      { snapshot: 6, tag: tag('d', 'a', '2024-01-03') },
      { snapshot: 7, tag: tag('e', 'a', '2024-01-01', 3) },
    ];
    expect(snapshotsToExpire(commits, [0, 1, 2, 3, 4, 5, 6, 7, 8])).toEqual([0, 1, 2, 4]);
  });

  it('follows the keep of the table’s newest commit', () => {
    const commits = [1, 2, 3, 4].map((n) => ({ snapshot: n, tag: tag('d', 'a', `2024-01-0${n}`, n === 4 ? 3 : 2) }));
    expect(snapshotsToExpire(commits, [1, 2, 3, 4])).toEqual([1]);
  });
});

describe('a large state, replaced by dropping and creating its table', () => {
  const dates = ['2024-01-01', '2024-01-02', '2024-01-03'];
  const fixture = catalogFixture('cdcflow-drop-');

  /** A commit of `date` whose state holds the one row `k`; its record claims a large state, which makes it drop the table. */
  const request = (date: string, k: string, expectedHead: string | null, table = 'big') =>
    oneRowCommit(fixture, { table, k, date, commitId: k, expectedHead, expectedHeadDate: expectedHead && dates[dates.indexOf(date) - 1], currentRows: DROP_STATE_ROWS });

  const snapshotOf = async (commitId: string) =>
    (await withCatalog(fixture.engine, fixture.warehouse, (s, _alias, metadata) => commitSnapshots(s, metadata))).find((t) => t.tag.commit === commitId)!.snapshot;
  const rowsAt = (snapshot: number | undefined) =>
    withCatalog(fixture.engine, fixture.warehouse, (s, alias) => s.rows<{ k: string }>(`SELECT k FROM "${alias}"."d"."big__current"${snapshot === undefined ? '' : ` AT (VERSION => ${snapshot})`}`));
  const filesAt = (snapshot: number) =>
    withCatalog(fixture.engine, fixture.warehouse, (s, alias) => s.rows<{ f: string }>(`SELECT data_file AS f FROM ducklake_list_files('${alias}', 'big__current', schema => 'd', snapshot_version => ${snapshot})`));

  it('reads each commit\'s state at its snapshot, by name, and retention deletes the files of expired ones', async () => {
    await commitDate(fixture.engine, fixture.warehouse, await request(dates[0], 'one', null));
    await commitDate(fixture.engine, fixture.warehouse, await request(dates[1], 'two', 'one'));
    await commitDate(fixture.engine, fixture.warehouse, await request(dates[2], 'three', 'two'));
    const tables = await withCatalog(fixture.engine, fixture.warehouse, (s, _alias, metadata) =>
      s.rows<{ n: string }>(`SELECT count(*) AS n FROM ${metadata}.ducklake_table WHERE table_name = 'big__current'`),
    );
    expect(Number(tables[0].n)).toBe(3);
    expect(await rowsAt(await snapshotOf('one'))).toEqual([{ k: 'one' }]);
    expect(await rowsAt(await snapshotOf('two'))).toEqual([{ k: 'two' }]);
    expect(await rowsAt(undefined)).toEqual([{ k: 'three' }]);
    expect(await filesAt(await snapshotOf('two'))).toEqual([{ f: path.join(fixture.warehouse, 'two-c.parquet') }]);

    await withCatalog(fixture.engine, fixture.warehouse, (s, alias, metadata) => applyRetention(s, alias, metadata));
    expect(existsSync(path.join(fixture.warehouse, 'one-c.parquet'))).toBe(false);
    expect(existsSync(path.join(fixture.warehouse, 'two-c.parquet'))).toBe(true);
    expect(await filesAt(await snapshotOf('two'))).toEqual([{ f: path.join(fixture.warehouse, 'two-c.parquet') }]);
  });

  it('commits of two tables that share one transaction each replace their own state', async () => {
    for (const name of ['x', 'y']) await commitDate(fixture.engine, fixture.warehouse, await request(dates[0], `${name}-1`, null, name));
    const requests = await Promise.all(['x', 'y'].map((name) => request(dates[1], `${name}-2`, `${name}-1`, name)));
    await Promise.all(requests.map((r) => commitDate(fixture.engine, fixture.warehouse, r)));
    const [x, y] = [await snapshotOf('x-2'), await snapshotOf('y-2')];
    expect(x).toBe(y);
    const states = await withCatalog(fixture.engine, fixture.warehouse, (s, alias) =>
      s.rows<{ k: string }>(`SELECT k FROM "${alias}"."d"."x__current" UNION ALL SELECT k FROM "${alias}"."d"."y__current" ORDER BY k`),
    );
    expect(states).toEqual([{ k: 'x-2' }, { k: 'y-2' }]);
  });
});

describe('the small files of tables that gain one per commit, merged by retention', () => {
  const fixture = catalogFixture('cdcflow-merge-');
  const dates = Array.from({ length: MERGE_AT + 1 }, (_, i) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10));
  const ask = <T>(sql: (alias: string, metadata: string) => string) => withCatalog(fixture.engine, fixture.warehouse, (s, alias, metadata) => s.rows<T>(sql(alias, metadata)));
  const liveFiles = (table: string) =>
    ask<{ n: string }>((_a, m) => `SELECT count(*) AS n FROM ${m}.ducklake_data_file f JOIN ${m}.ducklake_table t USING (table_id) WHERE f.end_snapshot IS NULL AND t.end_snapshot IS NULL AND t.table_name = '${table}'`).then(
      ([r]) => Number(r.n),
    );
  const contents = (at = '') =>
    ask<{ h: string; log: string }>(
      (a) =>
        `SELECT (SELECT string_agg(k || ' ' || EFF_START_DATE, ',' ORDER BY EFF_START_DATE, k) FROM "${a}"."d"."m__history"${at}) AS h, ` +
        `(SELECT string_agg(commit_id || ' ' || business_date, ',' ORDER BY business_date) FROM "${a}"."d"."m__commits"${at}) AS log`,
    ).then(([r]) => r);

  it('keeps the catalog file list from growing with every date, with the same rows at every kept snapshot, and the latest date can run again', async () => {
    let head: string | null = null;
    for (const [i, date] of dates.entries()) {
      await commitDate(fixture.engine, fixture.warehouse, await oneRowCommit(fixture, { table: 'm', k: `k${i}`, date, commitId: `m-${i}`, expectedHead: head, expectedHeadDate: dates[i - 1] ?? null, inDateFolder: true }));
      head = `m-${i}`;
    }
    const base = (await withCatalog(fixture.engine, fixture.warehouse, (s, _a, m) => commitSnapshots(s, m))).find((t) => t.tag.commit === `m-${MERGE_AT - 1}`)!.snapshot;
    const [before, beforeAtBase] = [await contents(), await contents(` AT (VERSION => ${base})`)];
    expect([await liveFiles('m__history'), await liveFiles('m__commits')]).toEqual([MERGE_AT + 1, MERGE_AT + 1]);

    await withCatalog(fixture.engine, fixture.warehouse, (s, alias, metadata) => applyRetention(s, alias, metadata));
    expect([await liveFiles('m__history'), await liveFiles('m__commits'), await liveFiles('m__current')]).toEqual([1, 1, 1]);
    expect(await contents()).toEqual(before);
    expect(await contents(` AT (VERSION => ${base})`)).toEqual(beforeAtBase);
    // The merged files are deleted, and the date folders they leave empty.
    expect(existsSync(path.join(fixture.warehouse, historyLakeFolder(dates[0])))).toBe(false);

    // The latest date again replaces its history rows in the merged file, as in its own.
    const last = dates.at(-1)!;
    await commitDate(fixture.engine, fixture.warehouse, await oneRowCommit(fixture, { table: 'm', k: 'again', date: last, commitId: 'm-again', expectedHead: head, expectedHeadDate: last, inDateFolder: true }));
    const after = await contents();
    expect(after.h).toBe(before.h.replace(`k${MERGE_AT} ${last}`, `again ${last}`));
    expect(after.log).toBe(before.log.replace(`m-${MERGE_AT} ${last}`, `m-again ${last}`));
  }, 60_000);
});

describe('catalog work shared by the requests that wait together', () => {
  const fixture = catalogFixture('cdcflow-shared-');

  it('runs once for the requests made before it started, and again for one made while it ran', async () => {
    let runs = 0;
    let inRun!: () => void;
    const running = new Promise<void>((resolve) => (inRun = resolve));
    let finish!: () => void;
    const finishing = new Promise<void>((resolve) => (finish = resolve));
    const count = async () => {
      runs += 1;
      if (runs === 1) {
        inRun();
        await finishing;
      }
      return runs;
    };
    const { release, held } = await holdCatalog(fixture);
    const waiting = [1, 2, 3].map(() => withSharedCatalog(fixture.engine, fixture.warehouse, 'count', count));
    // Work of another kind is not joined.
    const other = withSharedCatalog(fixture.engine, fixture.warehouse, 'other', async () => 'other');
    release();
    await held;
    await running;
    // The first run has started: its result may predate this request, which gets a run of its own.
    const later = withSharedCatalog(fixture.engine, fixture.warehouse, 'count', count);
    finish();
    expect(await Promise.all(waiting)).toEqual([1, 1, 1]);
    expect(await other).toBe('other');
    expect(await later).toBe(2);
  });

  it('gives every waiting request the failure, and a later request a new run', async () => {
    const { release, held } = await holdCatalog(fixture);
    const failing = [1, 2].map(() =>
      withSharedCatalog(fixture.engine, fixture.warehouse, 'fails', async () => {
        throw new Error('catalog unreachable');
      }),
    );
    release();
    await held;
    for (const outcome of await Promise.allSettled(failing)) expect(outcome).toMatchObject({ status: 'rejected', reason: { message: 'catalog unreachable' } });
    expect(await withSharedCatalog(fixture.engine, fixture.warehouse, 'fails', async () => 'recovered')).toBe('recovered');
  });
});

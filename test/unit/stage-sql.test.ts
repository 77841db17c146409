/** The stage SQL builders: exact text for a simple table, and hostile names stay quoted. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../src/engine/duckdb';
import { dateLiteral, fileListLiteral, quoteIdent, quoteLiteral } from '../../src/engine/sql';
import { hashBatchSql, historyFileSql, readOwnParquet, snapshotDiffSql, stateFileSql } from '../../src/engine/stage-sql';

const table = { keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }, { name: 'seen', type: 'date' }], ignore: ['seen'] };

describe('quoting', () => {
  it('doubles embedded quotes', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(fileListLiteral(['/x/a.csv', "/y/b'.csv"])).toBe("['/x/a.csv', '/y/b''.csv']");
  });
  it('accepts only ISO dates in date literals', () => {
    expect(dateLiteral('2024-01-02')).toBe("DATE '2024-01-02'");
    expect(() => dateLiteral("2024-01-02'; DROP TABLE x; --")).toThrow(/not a YYYY-MM-DD date/);
  });
});

describe('stage SQL', () => {
  it('diffs in one statement: the batch left-joined to the base (I, U, N), then the base keys it lacks', () => {
    const h = `read_parquet('/w/h.parquet', hive_partitioning = false)`;
    const b = `(SELECT * FROM read_parquet('/w/b.parquet', hive_partitioning = false))`;
    const changed = 'b.KEY_HASH IS NULL OR h.NONKEY_HASH <> b.NONKEY_HASH';
    expect(snapshotDiffSql(table, 'full', '2024-01-02', { hashed: '/w/h.parquet', base: readOwnParquet('/w/b.parquet') })).toBe(
      // N rows: the base's compared values and date, the batch's ignored column ("seen").
      `SELECT h."id", CASE WHEN ${changed} THEN h."v" ELSE b."v" END AS "v", h."seen", ` +
        `CASE WHEN b.KEY_HASH IS NULL THEN 'I' WHEN h.NONKEY_HASH <> b.NONKEY_HASH THEN 'U' ELSE 'N' END AS OPERATION, ` +
        `CASE WHEN ${changed} THEN DATE '2024-01-02' ELSE b.EFF_START_DATE END AS EFF_START_DATE, h.KEY_HASH, h.NONKEY_HASH ` +
        `FROM ${h} h LEFT JOIN ${b} b ON h.KEY_HASH = b.KEY_HASH UNION ALL ` +
        `SELECT "id", "v", "seen", OPERATION, CASE WHEN OPERATION = 'D' THEN DATE '2024-01-02' ELSE EFF_START_DATE END AS EFF_START_DATE, KEY_HASH, NONKEY_HASH ` +
        `FROM (SELECT b."id", b."v", b."seen", 'D' AS OPERATION, b.EFF_START_DATE, b.KEY_HASH, b.NONKEY_HASH FROM ${b} b ANTI JOIN ${h} h ON b.KEY_HASH = h.KEY_HASH)`,
    );
  });

  it('keeps one key-hash bucket on both sides of the diff', () => {
    const keyRange = `KEY_HASH >= '40000000-0000-0000-0000-000000000000'::UUID`;
    const sql = snapshotDiffSql(table, 'full', '2024-01-02', { hashed: '/w/h.parquet', base: readOwnParquet('/w/b.parquet'), keyRange });
    const h = `(SELECT * FROM read_parquet('/w/h.parquet', hive_partitioning = false) WHERE ${keyRange})`;
    const b = `(SELECT * FROM read_parquet('/w/b.parquet', hive_partitioning = false) WHERE ${keyRange})`;
    expect(sql).toContain(`FROM ${h} h LEFT JOIN ${b} b ON h.KEY_HASH = b.KEY_HASH`);
    expect(sql).toContain(`FROM ${b} b ANTI JOIN ${h} h ON b.KEY_HASH = h.KEY_HASH`);
  });

  it('marks absent keys D in full mode and X (keeping their date) in delta mode', () => {
    const p = { hashed: '/h', base: '/b' };
    expect(snapshotDiffSql(table, 'full', '2024-01-02', p)).toContain(`'D' AS OPERATION, b.EFF_START_DATE`);
    expect(snapshotDiffSql(table, 'delta', '2024-01-02', p)).toContain(`'X' AS OPERATION, b.EFF_START_DATE`);
  });

  it('leaves ignored columns out of the non-key hash', () => {
    const sql = hashBatchSql(table, 'src', '/o');
    const nonKeyHash = sql.slice(sql.indexOf('AS KEY_HASH'), sql.indexOf('AS NONKEY_HASH'));
    expect(nonKeyHash).toContain('typed."v"');
    expect(nonKeyHash).not.toContain('typed."seen"');
  });

  it('writes a commit\'s state sorted by key hash and its history, in the catalog tables\' column order; history without the date its folder names', () => {
    const columns = `"id", "v", "seen", OPERATION, EFF_START_DATE, KEY_HASH, NONKEY_HASH`;
    expect(stateFileSql(table, 'diff', '/l/c.parquet')).toBe(`COPY (SELECT ${columns} FROM diff WHERE OPERATION <> 'D' ORDER BY KEY_HASH) TO '/l/c.parquet' (FORMAT parquet, ROW_GROUP_SIZE 30720)`);
    expect(historyFileSql(table, 'diff', '/l/h.parquet')).toBe(
      `COPY (SELECT "id", "v", "seen", OPERATION, KEY_HASH, NONKEY_HASH FROM diff WHERE OPERATION IN ('I', 'U', 'D') ORDER BY KEY_HASH) TO '/l/h.parquet' (FORMAT parquet, ROW_GROUP_SIZE 30720)`,
    );
  });

  it('casts each column strictly from its source type (text when unknown)', () => {
    const sql = hashBatchSql(table, 'src', '/o', new Map([['seen', 'DATE']]));
    expect(sql).toContain(`CASE WHEN s."id" IS NULL OR (TRY_CAST(s."id" AS INTEGER) IS NOT NULL AND regexp_full_match(`);
    expect(sql).toContain(`CAST(s."v" AS VARCHAR) AS "v"`);
    expect(sql).toContain(`CAST(s."seen" AS DATE) AS "seen"`);
  });

  it('reads a column by its source name and names it as configured, in its error too', () => {
    const renamed = { keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'op', source: 'OPERATION', type: 'date' }], ignore: [] };
    const sql = hashBatchSql(renamed, 'src', '/o', new Map([['operation', 'VARCHAR']]));
    expect(sql).toContain(`CASE WHEN s."OPERATION" IS NULL OR (TRY_CAST(s."OPERATION" AS DATE) IS NOT NULL`);
    expect(sql).toContain(`error('a value of column "op" (source column "OPERATION") does not convert exactly to date') END AS "op"`);
    expect(sql).toContain(`SELECT typed."id", typed."op", `);
  });

  describe('with hostile names and paths', () => {
    const hostile = { keys: [{ name: `k"; DROP TABLE victim; --`, type: 'varchar' }], columns: [{ name: `it's`, type: 'integer' }], ignore: [] };
    let engine: Engine;
    beforeAll(async () => {
      engine = await Engine.create();
    });
    afterAll(() => engine.close());

    it('runs as intended and touches nothing else', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), `cdc'flow-`));
      const rows = await engine.withSession(async (s) => {
        await s.run(`CREATE TABLE victim AS SELECT 1 AS x`);
        await s.run(`COPY (SELECT 'a' AS ${quoteIdent(hostile.keys[0].name)}, '7' AS "it's") TO ${quoteLiteral(`${dir}/src.csv`)} (HEADER)`);
        await s.run(hashBatchSql(hostile, `read_csv(${quoteLiteral(`${dir}/src.csv`)}, all_varchar = true)`, `${dir}/h.parquet`));
        await s.run(`COPY (${snapshotDiffSql(hostile, 'full', '2024-01-01', { hashed: `${dir}/h.parquet`, base: null })}) TO ${quoteLiteral(`${dir}/i.parquet`)}`);
        await s.run(`COPY (${snapshotDiffSql(hostile, 'full', '2024-01-01', { hashed: `${dir}/h.parquet`, base: readOwnParquet(`${dir}/i.parquet`) })}) TO ${quoteLiteral(`${dir}/u.parquet`)}`);
        const victim = await s.rows(`SELECT * FROM victim`);
        const out = await s.rows(`SELECT * EXCLUDE (KEY_HASH, NONKEY_HASH) FROM read_parquet(${quoteLiteral(`${dir}/u.parquet`)})`);
        return { victim, out };
      });
      expect(rows.victim).toEqual([{ x: 1 }]);
      expect(rows.out).toEqual([{ [hostile.keys[0].name]: 'a', "it's": 7, OPERATION: 'N', EFF_START_DATE: '2024-01-01' }]);
    });
  });
});

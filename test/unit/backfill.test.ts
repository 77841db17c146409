import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseKeyOption, readKeysFile } from '../../src/client/backfill-keys';
import type { DatasetConfig, TableConfig } from '../../src/config/types';
import { missingKeysSql, requestedKeysSql, stateWithoutKeysSql, uncastKeySql } from '../../src/engine/key-scope-sql';
import { chunkQuerySql, type SourceColumn } from '../../src/sources/postgres-sql';
import { dumpRunInput, dumpScope } from '../../src/workflows/dump-scope';

const hostile = `k"; DROP TABLE x; --`;
const table = {
  dataset: 'shop',
  name: 'orders',
  keys: [
    { name: 'region', type: 'varchar' },
    { name: 'id', type: 'integer' },
  ],
  columns: [{ name: 'v', type: 'varchar' }],
  source: { format: 'postgres', extract: true },
} as unknown as TableConfig;
const config = { dataset: 'shop', tables: [table, { ...table, name: 'files', source: { format: 'csv', extract: false } }] } as unknown as DatasetConfig;
const link = { queueWorkflowId: 'cdcflow/shop', requestId: 'r1' };

describe('keys-only dumps', () => {
  it('push the requested keys down to PostgreSQL as untyped, quoted literals', () => {
    const keys: SourceColumn[] = [{ name: 'id', type: 'integer', sourceName: hostile, readAs: 'value', arrivesAs: 'INTEGER' }];
    const source = { table: { schema: 'public', name: 'orders' }, query: null, chunkRows: 10, watermark: null };
    expect(chunkQuerySql(source, keys, keys, { after: ['3'], upTo: null, since: null, keys: [['3'], ["5' OR '1'='1"]] })).toBe(
      `SELECT "k""; DROP TABLE x; --" AS c1 FROM "public"."orders" WHERE ("k""; DROP TABLE x; --") IN (('3'), ('5'' OR ''1''=''1')) ` +
        `AND ("k""; DROP TABLE x; --") > ('3') ORDER BY "k""; DROP TABLE x; --"`,
    );
  });

  it('type and hash the requested keys like the hash stage, and name them by their text', () => {
    const t = { keys: [{ name: hostile, type: 'integer' }] };
    const raw = `(SELECT * FROM (VALUES (1, '7'), (2, 'x''y')) AS requested(key_position, k1))`;
    const name = `'(' || concat_ws(', ', 'k"; DROP TABLE x; --=' || k1) || ')'`;
    const inexact = `WHEN NOT (TRY_CAST(k1 AS INTEGER) IS NOT NULL AND regexp_full_match(k1, '\\s*[+-]?[0-9]+\\s*'))`;
    expect(uncastKeySql(t, [['7'], ["x'y"]])).toBe(
      `SELECT ${name} AS key_name, CASE ${inexact} THEN 'k"; DROP TABLE x; --' END AS column_name, CASE ${inexact} THEN k1 END AS value FROM ${raw} ` +
        `WHERE CASE ${inexact} THEN 'k"; DROP TABLE x; --' END IS NOT NULL LIMIT 1`,
    );
    expect(uncastKeySql({ keys: [{ name: 'code', type: 'varchar' }] }, [['x']])).toBeNull();
    const requested = requestedKeysSql(t, [['7'], ["x'y"]]);
    expect(requested).toBe(
      `(SELECT key_position, key_name, CAST(md5(concat(CASE WHEN typed."k""; DROP TABLE x; --" IS NULL THEN 'N' ELSE 'V' END, strlen(CAST(typed."k""; DROP TABLE x; --" AS VARCHAR)), ` +
        `CASE WHEN typed."k""; DROP TABLE x; --" IS NOT NULL THEN ':' END, CAST(typed."k""; DROP TABLE x; --" AS VARCHAR))) AS UUID) AS KEY_HASH FROM (SELECT key_position, ${name} AS key_name, CAST(k1 AS INTEGER) AS "k""; DROP TABLE x; --" FROM ${raw}) typed)`,
    );
    expect(stateWithoutKeysSql({ keys: t.keys, columns: [{ name: 'v', type: 'varchar' }] }, '"lake"."shop"."t__current"', 'R', "/it's/o.parquet")).toBe(
      `COPY (SELECT s."k""; DROP TABLE x; --", s."v" FROM "lake"."shop"."t__current" s WHERE s.KEY_HASH NOT IN (SELECT KEY_HASH FROM R)) ` +
        `TO '/it''s/o.parquet' (FORMAT parquet, COMPRESSION lz4_raw)`,
    );
    expect(missingKeysSql({ keys: [{ name: 'id', type: 'varchar' }] }, 'R', ['/c1.parquet'], null, 100)).toBe(
      `SELECT r.key_name, count(*) OVER () AS missing FROM R r WHERE r.KEY_HASH NOT IN (SELECT CAST(md5(concat(CASE WHEN c."id" IS NULL THEN 'N' ELSE 'V' END, strlen(c."id"), ` +
        `CASE WHEN c."id" IS NOT NULL THEN ':' END, c."id")) AS UUID) AS KEY_HASH ` +
        `FROM read_parquet(['/c1.parquet'], hive_partitioning = false) c) ORDER BY r.key_position LIMIT 100`,
    );
    expect(missingKeysSql(t, 'R', [], null, 5)).toBe('SELECT r.key_name, count(*) OVER () AS missing FROM R r ORDER BY r.key_position LIMIT 5');
  });

  it('read keys from --key options and a CSV file naming the key columns, refusing anything else', () => {
    expect(parseKeyOption('id=5,region=eu=1', table)).toEqual({ id: '5', region: 'eu=1' });
    expect(() => parseKeyOption('id=5', table)).toThrow('--key id=5: the key of orders is region, id');
    expect(() => parseKeyOption('id=5,region=eu,x=1', table)).toThrow('not key columns: x');
    expect(() => parseKeyOption('id5', table)).toThrow('--key id5: "id5" is not column=value');
    // A comma in a value cannot be told from the one between pairs: the message says where such a value goes.
    expect(() => parseKeyOption('id=5,region=eu,west', table)).toThrow(
      '--key id=5,region=eu,west: "west" is not column=value (the pairs are separated by commas; a value holding a comma goes in a --keys-file',
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'cdcflow-keys-'));
    try {
      const file = path.join(dir, 'keys.csv');
      writeFileSync(file, 'id,region\n5,"eu, ""west"""\n\n6,us\n');
      expect(readKeysFile(file, table)).toEqual([
        { id: '5', region: 'eu, "west"' },
        { id: '6', region: 'us' },
      ]);
      writeFileSync(file, 'id,region\n5,eu\n6\n');
      expect(() => readKeysFile(file, table)).toThrow(`keys file ${file} line 3: 1 field(s), the header has 2`);
      writeFileSync(file, 'id\n5\n');
      expect(() => readKeysFile(file, table)).toThrow(`keys file ${file} line 2: the key of orders is region, id`);
      writeFileSync(file, 'id,region\n');
      expect(() => readKeysFile(file, table)).toThrow('holds no key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a request becomes a full run holding the turn; unknown tables, file tables and partial keys are refused by name', () => {
    expect(dumpScope({ requestId: 'r' }, new Date('2024-03-04T23:00:00Z'))).toEqual({ description: 'all tables', businessDate: '2024-03-04' });
    expect(dumpScope({ requestId: 'r', tables: ['orders'], businessDate: '2024-01-01' }, new Date())).toEqual({ description: 'tables orders', businessDate: '2024-01-01' });
    expect(dumpRunInput({ requestId: 'r' }, config, '2024-01-01', link)).toEqual({ config, businessDate: '2024-01-01', mode: 'full', holdsTurn: true, dump: link, tables: undefined });
    const keys = { table: 'orders', rows: [{ id: '5', region: 'eu' }] };
    expect(dumpRunInput({ requestId: 'r', keys }, config, '2024-01-01', link)).toMatchObject({ tables: ['orders'], dump: { ...link, keys: { table: 'orders', values: [['eu', '5']] } } });
    expect(() => dumpRunInput({ requestId: 'r', tables: ['nope'] }, config, '2024-01-01', link)).toThrow('backfill of dataset shop: no table(s) nope (tables: orders, files)');
    expect(() => dumpRunInput({ requestId: 'r' }, config, '2024-1-1', link)).toThrow('businessDate "2024-1-1" is not a date (YYYY-MM-DD)');
    expect(() => dumpRunInput({ requestId: 'r' }, config, '2024-02-30', link)).toThrow('businessDate "2024-02-30" is not a date (YYYY-MM-DD)');
    const deltaFiles = { ...config, tables: config.tables.map((t) => (t.name === 'files' ? { ...t, mode: 'delta' as const } : t)) };
    expect(() => dumpRunInput({ requestId: 'r' }, deltaFiles, '2024-01-01', link)).toThrow("table(s) files read files of one date's changes (mode delta)");
    expect(dumpRunInput({ requestId: 'r', tables: ['orders'] }, deltaFiles, '2024-01-01', link)).toMatchObject({ tables: ['orders'] });
    expect(() => dumpRunInput({ requestId: 'r', keys: { ...keys, table: 'files' } }, config, '2024-01-01', link)).toThrow('table files is read from files');
    expect(() => dumpRunInput({ requestId: 'r', keys: { table: 'orders', rows: [{ id: '5' }] } }, config, '2024-01-01', link)).toThrow(
      'key 1 of table orders must give exactly the key column(s) region, id as text ({"id":"5"})',
    );
  });
});

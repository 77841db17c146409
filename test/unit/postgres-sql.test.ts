import type { PostgresSourceSpec } from '../../src/config/types';
import {
  castFailureSql,
  chunkEndSql,
  chunkQuerySql,
  columnTypesSql,
  copyChunkSql,
  describeRelationSql,
  highWatermarkSql,
  keysDeclaredNotNullSql,
  mayBeNumeric,
  nullKeySql,
  readPlan,
  relationSql,
  relationsAlikeSql,
  type SourceColumn,
  unreadableAs,
} from '../../src/sources/postgres-sql';

const source = (over: Partial<PostgresSourceSpec> = {}) => ({
  table: { schema: 'public', name: 'orders' },
  query: null,
  chunkRows: 1000,
  watermark: null,
  ...over,
});
const keys: SourceColumn[] = [
  { name: 'region', type: 'varchar', sourceName: 'Region', readAs: 'value', arrivesAs: 'VARCHAR' },
  { name: 'id', type: 'bigint', sourceName: 'id', readAs: 'value', arrivesAs: 'BIGINT' },
];
const columns: SourceColumn[] = [...keys, { name: 'amount', type: 'decimal(12,2)', sourceName: 'amount', readAs: 'value', arrivesAs: 'DECIMAL(12,2)' }];
/** PostgreSQL's type of a value through any domains, from pg_type. */
const baseType = (ref: string) =>
  `(WITH RECURSIVE d(oid, base) AS (SELECT oid, typbasetype FROM pg_type WHERE oid = pg_typeof(${ref}) ` +
  'UNION ALL SELECT p.oid, p.typbasetype FROM pg_type p JOIN d ON p.oid = d.base) SELECT format_type(oid, NULL) FROM d WHERE base = 0)';
/** PostgreSQL's text of a value that reads back as it, whatever the session's DateStyle and TimeZone. */
// The settings a value's text depends on are set first, in the condition; then a timestamptz is its JSON text.
const exactTextSettings = `set_config('extra_float_digits', '1', true) IS NOT NULL AND set_config('DateStyle', 'ISO', true) IS NOT NULL`;
const readBack = (v: string) =>
  `CASE WHEN ${exactTextSettings} THEN CASE WHEN ${baseType(v)} = 'timestamp with time zone' THEN to_json(${v}) #>> '{}' ELSE ${v}::text END END`;

describe('PostgreSQL source SQL', () => {
  it('reads the first chunk up to its end, in key order', () => {
    expect(chunkQuerySql(source(), columns, keys, { after: null, upTo: ['eu', '7'], since: null })).toBe(
      'SELECT "Region" AS c1, "id" AS c2, "amount" AS c3 FROM "public"."orders" ' + `WHERE ("Region", "id") <= ('eu', '7') ORDER BY "Region", "id"`,
    );
    // A table that fits in one chunk: no bound at all.
    expect(chunkQuerySql(source(), columns, keys, { after: null, upTo: null, since: null })).toBe(
      'SELECT "Region" AS c1, "id" AS c2, "amount" AS c3 FROM "public"."orders" ORDER BY "Region", "id"',
    );
  });

  it('reads later chunks between the two ends, and delta rows above the watermark, with untyped literals', () => {
    expect(chunkQuerySql(source({ watermark: 'updated_at' }), columns, keys, { after: ["o'hare", '42'], upTo: ['us', '1'], since: '2024-01-01 00:00:00' })).toBe(
      'SELECT "Region" AS c1, "id" AS c2, "amount" AS c3 FROM "public"."orders" ' +
        `WHERE "updated_at" > '2024-01-01 00:00:00' AND ("Region", "id") > ('o''hare', '42') AND ("Region", "id") <= ('us', '1') ` +
        'ORDER BY "Region", "id"',
    );
    // The last chunk reads to the end of the table.
    expect(chunkQuerySql(source(), columns, keys, { after: ['eu', '7'], upTo: null, since: null })).toBe(
      'SELECT "Region" AS c1, "id" AS c2, "amount" AS c3 FROM "public"."orders" ' + `WHERE ("Region", "id") > ('eu', '7') ORDER BY "Region", "id"`,
    );
    expect(() => chunkQuerySql(source(), columns, keys, { after: ['1'], upTo: null, since: null })).toThrow(/a last key of 1 values for 2 key columns/);
    expect(() => chunkQuerySql(source(), columns, keys, { after: null, upTo: ['1', '2', '3'], since: null })).toThrow(/a chunk end of 3 values for 2 key columns/);
  });

  it("finds a chunk's end: the keys' text of the chunkRows-th row after the previous end, and of the row after it", () => {
    expect(chunkEndSql(source(), keys, { since: null }, ['eu', '7'])).toBe(
      `SELECT ${readBack('chunk_end.k1')} AS k1, ${readBack('chunk_end.k2')} AS k2 FROM ` +
        '(SELECT "Region" AS k1, "id" AS k2 FROM "public"."orders" ' +
        `WHERE ("Region", "id") > ('eu', '7') ORDER BY "Region", "id" OFFSET 999 LIMIT 2) AS chunk_end ORDER BY chunk_end.k1, chunk_end.k2`,
    );
    expect(chunkEndSql(source({ watermark: 'updated_at' }), keys, { since: '2024-01-01', keys: [['eu', '1']] }, null)).toBe(
      `SELECT ${readBack('chunk_end.k1')} AS k1, ${readBack('chunk_end.k2')} AS k2 FROM ` +
        '(SELECT "Region" AS k1, "id" AS k2 FROM "public"."orders" ' +
        `WHERE "updated_at" > '2024-01-01' AND ("Region", "id") IN (('eu', '1')) ORDER BY "Region", "id" OFFSET 999 LIMIT 2) AS chunk_end ORDER BY chunk_end.k1, chunk_end.k2`,
    );
  });

  it('wraps a query as a subquery', () => {
    expect(relationSql(source({ table: null, query: 'SELECT * FROM a JOIN b USING (id)' }))).toBe('(SELECT * FROM a JOIN b USING (id)) AS source');
  });

  it('quotes hostile names: a quote, a semicolon, --, mixed case', () => {
    const hostile = source({ table: { schema: 'we"ird;--', name: 'Ta"ble; DROP TABLE x;--' }, watermark: 'up"d;--' });
    const k: SourceColumn[] = [{ name: 'a"b', type: 'integer', sourceName: 'A"b; --', readAs: 'value', arrivesAs: 'INTEGER' }];
    const sql = chunkQuerySql(hostile, k, k, { after: ["x'); DROP TABLE y;--"], upTo: ["z'--"], since: "'; --" });
    expect(sql).toBe(
      'SELECT "A""b; --" AS c1 FROM "we""ird;--"."Ta""ble; DROP TABLE x;--" ' +
        `WHERE "up""d;--" > '''; --' AND ("A""b; --") > ('x''); DROP TABLE y;--') AND ("A""b; --") <= ('z''--') ORDER BY "A""b; --"`,
    );
    expect(chunkEndSql(hostile, k, { since: null }, ["x'); DROP TABLE y;--"])).toBe(
      `SELECT ${readBack('chunk_end.k1')} AS k1 FROM ` +
        '(SELECT "A""b; --" AS k1 FROM "we""ird;--"."Ta""ble; DROP TABLE x;--" ' +
        `WHERE ("A""b; --") > ('x''); DROP TABLE y;--') ORDER BY "A""b; --" OFFSET 999 LIMIT 2) AS chunk_end ORDER BY chunk_end.k1`,
    );
    // Inside DuckDB's postgres_query, the PostgreSQL text is one string literal.
    expect(describeRelationSql('pg', hostile)).toBe(
      `DESCRIBE SELECT * FROM postgres_query('pg', 'SELECT * FROM "we""ird;--"."Ta""ble; DROP TABLE x;--" LIMIT 0')`,
    );
    expect(keysDeclaredNotNullSql(hostile, k)).toBe(
      `SELECT count(*) AS n FROM pg_attribute WHERE attrelid = '"we""ird;--"."Ta""ble; DROP TABLE x;--"'::regclass ` +
        `AND attnotnull AND attname IN ('A"b; --')`,
    );
  });

  it('writes a chunk cast to the configured types under the configured names', () => {
    expect(copyChunkSql('pg', "SELECT 'x'", columns, '/w/c.parquet')).toBe(
      'COPY (SELECT CAST(c1 AS VARCHAR) AS "region", CAST(c2 AS BIGINT) AS "id", CAST(c3 AS DECIMAL(12,2)) AS "amount" ' +
        `FROM postgres_query('pg', 'SELECT ''x''')) TO '/w/c.parquet' (FORMAT parquet, COMPRESSION lz4_raw, PARQUET_VERSION v2)`,
    );
  });

  // A numeric(10,3) into decimal(10,2), a double precision into integer, numerics read as their text, an instant.
  const loose: SourceColumn[] = [
    keys[1],
    { name: 'n3', type: 'decimal(10,2)', sourceName: 'n3', readAs: 'value', arrivesAs: 'DECIMAL(10,3)' },
    { name: 'f', type: 'integer', sourceName: 'f', readAs: 'value', arrivesAs: 'DOUBLE' },
    { name: 'big', type: 'decimal(38,9)', sourceName: 'Big', readAs: 'text', arrivesAs: 'VARCHAR' },
    { name: 'raw', type: 'varchar', sourceName: 'raw', readAs: 'text', arrivesAs: 'VARCHAR' },
    { name: 'at', type: 'timestamp', sourceName: 'at', readAs: 'utc', arrivesAs: 'TIMESTAMP' },
  ];

  it('pushes down a numeric the extension would not deliver exactly as its text, and an instant for a timestamp as its UTC time', () => {
    expect(chunkQuerySql(source(), loose, [keys[1]], { after: null, upTo: null, since: null })).toBe(
      `SELECT "id" AS c1, "n3" AS c2, "f" AS c3, trim_scale("Big")::text AS c4, "raw"::text AS c5, ("at" AT TIME ZONE 'UTC') AS c6 ` +
        'FROM "public"."orders" ORDER BY "id"',
    );
  });

  it('casts each column strictly from the type it arrives as', () => {
    const sql = copyChunkSql('pg', 'SELECT 1', loose, '/w/c.parquet');
    expect(sql).toContain(
      'CASE WHEN c2 IS NULL OR (TRY_CAST(TRY_CAST(c2 AS DECIMAL(10,2)) AS DECIMAL(10,3)) IS NOT DISTINCT FROM c2) ' +
        `THEN CAST(c2 AS DECIMAL(10,2)) ELSE error('a value of column "n3" does not convert exactly to decimal(10,2)') END AS "n3"`,
    );
    expect(sql).toContain('TRY_CAST(TRY_CAST(c3 AS INTEGER) AS DOUBLE) IS NOT DISTINCT FROM c3');
    expect(sql).toContain(`regexp_full_match(c4, '\\s*[+-]?[0-9]*(\\.[0-9]{0,9}0*)?\\s*')`);
    // A timestamp before PostgreSQL's earliest is one the extension wrapped around: refused.
    expect(sql).toContain(
      `CAST(c5 AS VARCHAR) AS "raw", CAST(CASE WHEN (isfinite(c6) AND c6 < CAST('4714-11-24 (BC) 00:00:00' AS TIMESTAMP)) ` +
        `THEN error('a value of column "at" is later than 294247-01-10 04:00:54.775806, the latest timestamp DuckDB holds') ELSE c6 END AS TIMESTAMP) AS "at"`,
    );
  });

  it("reads a real as PostgreSQL's text, cast to the double it names, and an array as PostgreSQL's text, only into varchar", () => {
    expect(readPlan('FLOAT', null, 'double')).toEqual({ readAs: 'real', arrivesAs: 'DOUBLE' });
    expect(readPlan('VARCHAR[]', null, 'varchar')).toEqual({ readAs: 'text', arrivesAs: 'VARCHAR' });
    expect(unreadableAs('INTEGER[]', 'integer')).toBe(`a PostgreSQL array (INTEGER[]) is read as PostgreSQL's text of it ({a,b}), so only into varchar, not integer`);
    expect([unreadableAs('INTEGER[]', 'varchar'), unreadableAs('INTEGER', 'integer')]).toEqual([null, null]);
    const real: SourceColumn[] = [keys[1], { name: 'r', type: 'decimal(10,2)', sourceName: 'R', readAs: 'real', arrivesAs: 'DOUBLE' }];
    expect(chunkQuerySql(source(), real, [keys[1]], { after: null, upTo: null, since: null })).toBe('SELECT "id" AS c1, "R"::text AS c2 FROM "public"."orders" ORDER BY "id"');
    expect(copyChunkSql('pg', 'SELECT 1', real, '/w/c.parquet')).toContain(
      'CASE WHEN CAST(c2 AS DOUBLE) IS NULL OR (TRY_CAST(TRY_CAST(CAST(c2 AS DOUBLE) AS DECIMAL(10,2)) AS DOUBLE) IS NOT DISTINCT FROM CAST(c2 AS DOUBLE)) ' +
        'THEN CAST(CAST(c2 AS DOUBLE) AS DECIMAL(10,2))',
    );
    // The value named in a refusal is PostgreSQL's text of it.
    expect(castFailureSql('pg', 'SELECT 1', real, 1, 1)).toContain('CAST(c2 AS VARCHAR) AS value, false AS wrapped');
  });

  it('asks PostgreSQL for the types only of columns that may be inexact numerics, and reads those that are as text', () => {
    expect(['DOUBLE', 'DECIMAL(5,254)', 'DECIMAL(3,5)', 'DECIMAL(12,2)', 'DECIMAL(38,38)', 'BIGINT'].map(mayBeNumeric)).toEqual([true, true, true, true, true, false]);
    expect(readPlan('DOUBLE', 'numeric', 'decimal(38,9)')).toEqual({ readAs: 'text', arrivesAs: 'VARCHAR' });
    expect(readPlan('DOUBLE', 'double precision', 'integer')).toEqual({ readAs: 'value', arrivesAs: 'DOUBLE' });
    expect(readPlan('DECIMAL(10,3)', null, 'decimal(10,2)')).toEqual({ readAs: 'value', arrivesAs: 'DECIMAL(10,3)' });
    expect(readPlan('TIMESTAMP WITH TIME ZONE', null, 'timestamp')).toEqual({ readAs: 'utc', arrivesAs: 'TIMESTAMP' });
    expect(readPlan('TIMESTAMP WITH TIME ZONE', null, 'timestamptz')).toEqual({ readAs: 'value', arrivesAs: 'TIMESTAMP WITH TIME ZONE' });
    // Each column's type through any domains, from pg_type.
    expect(columnTypesSql(source({ table: { schema: 'we"ird;--', name: 'T' } }), ['a"b; --', 'n'])).toBe(
      `SELECT ${baseType('s."a""b; --"')} AS t1, ${baseType('s."n"')} AS t2 FROM (SELECT) AS one LEFT JOIN (SELECT * FROM "we""ird;--"."T" LIMIT 0) AS s ON true`,
    );
  });

  it('looks up relations named as a missing source table is but for case', () => {
    expect(relationsAlikeSql({ schema: "we'ird", name: 'T' })).toBe(
      "SELECT string_agg(n.nspname || '.' || c.relname, ', ' ORDER BY n.nspname, c.relname) AS names FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
        "WHERE lower(n.nspname) = lower('we''ird') AND lower(c.relname) = lower('T') AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
    );
  });

  it('finds the value that does not convert exactly, and NULL keys, and the high watermark', () => {
    expect(castFailureSql('pg', 'SELECT 1', loose, 1, 1)).toBe(
      `SELECT [CAST(c1 AS VARCHAR)] AS key, CAST(c2 AS VARCHAR) AS value, false AS wrapped FROM postgres_query('pg', 'SELECT 1') WITH ORDINALITY ` +
        'WHERE c2 IS NOT NULL AND (NOT (TRY_CAST(TRY_CAST(c2 AS DECIMAL(10,2)) AS DECIMAL(10,3)) IS NOT DISTINCT FROM c2)) ' +
        'ORDER BY ordinality LIMIT 1',
    );
    const wrapped = `(isfinite(c6) AND c6 < CAST('4714-11-24 (BC) 00:00:00' AS TIMESTAMP))`;
    expect(castFailureSql('pg', 'SELECT 1', loose, 5, 1)).toBe(
      `SELECT [CAST(c1 AS VARCHAR)] AS key, CAST(c6 AS VARCHAR) AS value, ${wrapped} AS wrapped FROM postgres_query('pg', 'SELECT 1') WITH ORDINALITY ` +
        `WHERE c6 IS NOT NULL AND (${wrapped}) ORDER BY ordinality LIMIT 1`,
    );
    // Every value of a column arriving as its type, or wanted as text, converts.
    expect(castFailureSql('pg', 'SELECT 1', columns, 2, 2)).toBeNull();
    expect(castFailureSql('pg', 'SELECT 1', loose, 4, 1)).toBeNull();
    expect(nullKeySql(source(), keys)).toBe(
      'SELECT "Region"::text AS k1, "id"::text AS k2 FROM "public"."orders" WHERE "Region" IS NULL OR "id" IS NULL LIMIT 1',
    );
    expect(keysDeclaredNotNullSql(source({ table: null, query: 'SELECT 1' }), keys)).toBeNull();
    expect(highWatermarkSql(source(), 'updated_at')).toBe(`SELECT ${readBack('high.watermark')} AS watermark FROM (SELECT max("updated_at") AS watermark FROM "public"."orders") AS high`);
    // The lookback is subtracted in the column's own type: an interval, or a plain number.
    expect(highWatermarkSql(source({ watermarkLookback: '1 hour 30 minutes' }), 'updated_at')).toBe(
      `SELECT ${readBack('high.watermark')} AS watermark FROM (SELECT (max("updated_at") - CAST('1 hour 30 minutes' AS interval)) AS watermark FROM "public"."orders") AS high`,
    );
    expect(highWatermarkSql(source({ watermarkLookback: 500 }), 'seq')).toBe(
      `SELECT ${readBack('high.watermark')} AS watermark FROM (SELECT (max("seq") - 500) AS watermark FROM "public"."orders") AS high`,
    );
  });
});

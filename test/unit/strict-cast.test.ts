/** Strict casts: the exact SQL, and which values pass on a real (in-memory) DuckDB. */
import { Engine } from '../../src/engine/duckdb';
import { quoteLiteral } from '../../src/engine/sql';
import { knownTimeZone } from '../../src/config/time-format';
import { type ColumnReading, exactCastChecks, exactCastCondition, strictCastSql } from '../../src/engine/strict-cast';

describe('strict casts', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.create();
  });
  afterAll(() => engine.close());

  /** Whether a value of the given source type converts exactly to the type. */
  async function exact(literal: string, sourceType: string, type: string, reading: ColumnReading = {}): Promise<boolean> {
    const condition = exactCastCondition('v', sourceType, type, reading);
    if (!condition) return true;
    const [row] = await engine.withSession((s) => s.rows<{ ok: boolean }>(`SELECT (${condition}) AS ok FROM (SELECT ${literal} AS v)`));
    return row.ok;
  }
  const text = (v: string) => `CAST(${quoteLiteral(v)} AS VARCHAR)`;

  it('builds a CASE that keeps NULLs and exact values and raises an error otherwise', () => {
    expect(strictCastSql('s."n"', 'VARCHAR', 'integer', { name: 'n' })).toBe(
      `CASE WHEN s."n" IS NULL OR (TRY_CAST(s."n" AS INTEGER) IS NOT NULL AND regexp_full_match(s."n", '\\s*[+-]?[0-9]+\\s*')) ` +
        `THEN CAST(s."n" AS INTEGER) ELSE error('a value of column "n" does not convert exactly to integer') END`,
    );
    expect(strictCastSql('s."v"', 'VARCHAR', 'varchar', { name: 'v' })).toBe('CAST(s."v" AS VARCHAR)');
    expect(strictCastSql('s."d"', 'DOUBLE', 'double', { name: 'd' })).toBe('CAST(s."d" AS DOUBLE)');
    expect(strictCastSql('s."t"', 'TIMESTAMP WITH TIME ZONE', 'timestamptz', { name: 't' })).toBe('CAST(s."t" AS TIMESTAMP WITH TIME ZONE)');
  });

  it.each([
    [`'"abc"'::JSON`, 'JSON', 'abc'],
    [`'5'::JSON`, 'JSON', '5'],
    [`'{"x": [1, "a b"]}'::JSON`, 'JSON', '{"x":[1,"a b"]}'],
    [`['a', 'b c']`, 'VARCHAR[]', '["a","b c"]'],
    [`{'k': 1, 's': 'x, y'}`, 'STRUCT(k INTEGER, s VARCHAR)', '{"k":1,"s":"x, y"}'],
    [`MAP {'a': 1}`, 'MAP(VARCHAR, INTEGER)', '{"a":1}'],
    [`'plain'`, 'VARCHAR', 'plain'],
    ['12', 'INTEGER', '12'],
  ])('as varchar, %s (%s) is %s', async (literal, sourceType, expected) => {
    const [row] = await engine.withSession((s) => s.rows<{ t: string }>(`SELECT ${strictCastSql('v', sourceType, 'varchar', { name: 'v' })} AS t FROM (SELECT ${literal} AS v)`));
    expect(row.t).toBe(expected);
  });

  it('quotes a hostile column name inside the error message', () => {
    expect(strictCastSql('s."x"', 'VARCHAR', 'date', { name: `it's` })).toContain(`error('a value of column "it''s" does not convert exactly to date')`);
  });

  it.each([
    ['42', 'integer', true],
    [' -7 ', 'bigint', true],
    ['20.4', 'integer', false],
    ['20.0', 'integer', false],
    ['1e3', 'integer', false],
    ['1_000', 'integer', false],
    ['99999999999', 'integer', false],
    ['5.00', 'decimal(10,2)', true],
    ['5.000', 'decimal(10,2)', true],
    ['5.', 'decimal(10,2)', true],
    ['5.004', 'decimal(10,2)', false],
    ['12.5', 'decimal(5,0)', false],
    ['0.1', 'double', true],
    ['inf', 'double', true],
    ['1e400', 'double', false],
    ['2024-01-01 10:00:00', 'timestamp', true],
    ['2024-01-01T10:00:00.123', 'timestamp', true],
    ['2024-01-01 10:00:00-08', 'timestamp', false],
    ['2024-01-01 10:00:00+00:00', 'timestamp', false],
    ['2024-01-01T10:00:00Z', 'timestamp', false],
    ['2024-01-01 24:00:00', 'timestamp', false],
    ['2024-01-01T24:00:00', 'timestamp', false],
    ['2024-01-01 10:24:00', 'timestamp', true],
    ['2024-01-01T17:24:24.5', 'timestamp', true],
    ['2024-01-01 10:24:00+00', 'timestamptz', true],
    ['2024-01-01 10:00:00-08', 'timestamptz', true],
    ['2024-01-01 24:00:00+00', 'timestamptz', false],
    ['2024-01-01 10:00:00.123456', 'timestamp', true],
    ['2024-01-01 10:00:00.123456000', 'timestamp', true],
    ['2024-01-01 10:00:00.123456789', 'timestamp', false],
    ['2024-01-01T10:00:00.1234567', 'timestamp', false],
    ['2024-01-01 10:00:00.123456789+02', 'timestamptz', false],
    ['2024-01-01 10:00:00.1200000+02', 'timestamptz', true],
    ['2024-02-29', 'date', true],
    ['2024-01-01 10:00:00', 'date', false],
    ['2023-02-29', 'date', false],
    ['true', 'boolean', true],
  ])('text %j into %s: exact = %s', async (value, type, expected) => {
    expect(await exact(text(value), 'VARCHAR', type)).toBe(expected);
  });

  it.each([
    ['7.0::DOUBLE', 'DOUBLE', 'integer', true],
    ['12.5::DOUBLE', 'DOUBLE', 'integer', false],
    ['3000000000::BIGINT', 'BIGINT', 'integer', false],
    [`TIMESTAMP '2024-01-01 00:00:00'`, 'TIMESTAMP', 'date', true],
    [`TIMESTAMP '2024-01-01 10:30:00'`, 'TIMESTAMP', 'date', false],
    ['1.234::DECIMAL(10,3)', 'DECIMAL(10,3)', 'decimal(10,2)', false],
    ['1.230::DECIMAL(10,3)', 'DECIMAL(10,3)', 'decimal(10,2)', true],
    [`TIMESTAMPTZ '2024-01-01 10:00:00+00'`, 'TIMESTAMP WITH TIME ZONE', 'timestamp', false],
    [`TIMESTAMP '2024-01-01 10:00:00'`, 'TIMESTAMP', 'timestamptz', true],
  ])('typed %s (%s) into %s: exact = %s', async (literal, sourceType, type, expected) => {
    expect(await exact(literal, sourceType, type)).toBe(expected);
  });

  it.each([
    ['12.5', 'decimal(10,2)', true],
    ['0.1', 'decimal(10,2)', true],
    ['99999.99', 'decimal(10,2)', true],
    ['-0.000123456789012345', 'decimal(38,18)', true],
    ['123456789012345', 'bigint', true],
    ['1234567890.123456789', 'decimal(38,9)', false],
    ['1234567890.123456789', 'double', true],
    ['123456789012345678901234567', 'decimal(38,0)', false],
    ['123456789012345678901234567', 'varchar', false],
    ['123456789012345678901234567', 'double', true],
    ['9007199254740993.0', 'bigint', false],
    ['1e22', 'decimal(38,0)', true],
    ['1e400', 'varchar', false],
    ['1e400', 'double', false],
    ['-1e400', 'double', false],
    ['12.5', 'integer', false],
  ])('JSON number %s (read as DOUBLE) into %s: exact = %s', async (value, type, expected) => {
    expect(await exact(`CAST(${quoteLiteral(value)} AS DOUBLE)`, 'DOUBLE', type, { jsonNumbers: true })).toBe(expected);
  });

  it('takes a DOUBLE of any other source as its own type: a Parquet double is the data', async () => {
    expect(await exact(`CAST('1234567890.123456789' AS DOUBLE)`, 'DOUBLE', 'varchar')).toBe(true);
    expect(await exact(`CAST('1e400' AS DOUBLE)`, 'DOUBLE', 'double')).toBe(true);
  });

  it('knows every time zone a column may name, as DuckDB does', async () => {
    // Node's canonical names, and aliases and spellings it also takes.
    const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC', 'utc', 'europe/berlin', 'Asia/Kolkata', 'Europe/Kyiv', 'US/Eastern', 'Etc/GMT+1', 'CET'];
    expect(zones.filter((z) => !knownTimeZone(z))).toEqual([]);
    const values = zones.map((z) => `(${quoteLiteral(z)})`).join(', ');
    const rows = await engine.withSession((s) => s.rows<{ z: string; at: string }>(`SELECT z, CAST(timezone(z, TIMESTAMP '2024-01-15 10:00:00') AS VARCHAR) AS at FROM (VALUES ${values}) AS t(z)`));
    expect(rows).toHaveLength(zones.length);
    expect(rows.find((r) => r.z === 'Asia/Kolkata')?.at).toBe('2024-01-15 04:30:00+00');
  });

  it('reads timestamptz text without an offset as UTC, also after a value naming a zone in the same batch', async () => {
    // DuckDB's own cast took the zone of the value before it (here 15:00+00, New York's).
    const sql = strictCastSql('v', 'VARCHAR', 'timestamptz', { name: 'v' });
    const rows = await engine.withSession((s) =>
      s.rows<{ t: string }>(`SELECT CAST(${sql} AS VARCHAR) AS t FROM (VALUES (1, '2024-07-01 10:00:00 America/New_York'), (2, '2024-01-01 10:00:00'), (3, '2024-01-01')) AS r(i, v) ORDER BY i`),
    );
    expect(rows.map((r) => r.t)).toEqual(['2024-07-01 14:00:00+00', '2024-01-01 10:00:00+00', '2024-01-01 00:00:00+00']);
  });

  it.each([
    ['2024-07-01 10:00:00 BST', false],
    ['2024-07-01 10:00:00 PST', false],
    ['2024-07-01 10:00:00 CST', false],
    ['2024-07-01 10:00:00 EST', false],
    ['2024-07-01 10:00:00 UTC+2', false],
    ['2024-07-01 10:00:00 GMT', true],
    ['2024-07-01 10:00:00 utc', true],
    ['2024-07-01T10:00:00Z', true],
    ['2024-07-01 10:00:00 Europe/London', true],
    ['2024-07-01 10:00:00 Etc/GMT-2', true],
    ['2024-01-01 10:00:00+99', false],
    ['2024-01-01 10:00:00+16', false],
    ['2024-01-01 10:00:00-99:59', false],
    ['2024-01-01 10:00:00+05:60', false],
    ['2024-01-01 10:00:00+15:59', true],
    ['2024-01-01 10:00:00+0545', true],
    ['2024-01-01 10:00:00.5-0800', true],
    ['2024-01-01 10:00:00+05:45:30', true],
    ['2024-01-01 10:00:00', true],
  ])('timestamptz text %j names one instant: %s', async (value, expected) => {
    const checks = exactCastChecks('v', 'VARCHAR', 'timestamptz', {});
    const [row] = await engine.withSession((s) => s.rows<{ ok: boolean }>(`SELECT ${checks.map((c) => `(${c.condition})`).join(' AND ')} AS ok FROM (SELECT ${text(value)} AS v)`));
    expect(row.ok).toBe(expected);
  });

  it.each([
    ['2024-07-01 10:00 BST', '%Y-%m-%d %H:%M %Z', false],
    ['2024-07-01 10:00 Europe/London', '%Y-%m-%d %H:%M %Z', true],
    ['2024-01-01T10:00:00+2400', '%Y-%m-%dT%H:%M:%S%z', false],
    ['2024-01-01T10:00:00+0545', '%Y-%m-%dT%H:%M:%S%z', true],
  ])('timestamptz text %j in format %s names one instant: %s', async (value, format, expected) => {
    expect(await exact(text(value), 'VARCHAR', 'timestamptz', { format })).toBe(expected);
  });

  /** A value of the given source type read into a timestamptz in `zone`, as UTC text. */
  async function inZone(literal: string, sourceType: string, zone: string): Promise<string> {
    const sql = strictCastSql('v', sourceType, 'timestamptz', { name: 'v', timeZone: zone });
    const [row] = await engine.withSession((s) => s.rows<{ t: string }>(`SELECT CAST(${sql} AS VARCHAR) AS t FROM (SELECT ${literal} AS v)`));
    return row.t;
  }

  it.each([
    [text('2024-01-15 10:00:00'), 'VARCHAR', '2024-01-15 09:00:00+00'],
    [text('2024-01-15'), 'VARCHAR', '2024-01-14 23:00:00+00'],
    [text('2024-07-15T10:00:00Z'), 'VARCHAR', '2024-07-15 10:00:00+00'],
    [`TIMESTAMP '2024-07-15 10:00:00'`, 'TIMESTAMP', '2024-07-15 08:00:00+00'],
    [`DATE '2024-07-15'`, 'DATE', '2024-07-14 22:00:00+00'],
    [`TIMESTAMPTZ '2024-07-15 10:00:00+00'`, 'TIMESTAMP WITH TIME ZONE', '2024-07-15 10:00:00+00'],
    // The fall-back hour happens twice; ICU takes the later (standard time).
    [`TIMESTAMP '2024-10-27 02:30:00'`, 'TIMESTAMP', '2024-10-27 01:30:00+00'],
  ])('%s (%s) in Europe/Berlin is %s', async (literal, sourceType, expected) => {
    expect(await inZone(literal, sourceType, 'Europe/Berlin')).toBe(expected);
  });

  it.each([
    [text('2024-03-31 02:30:00'), 'VARCHAR', false],
    [text('2024-03-31 02:30:00+02'), 'VARCHAR', true],
    [text('2024-03-31 03:30:00'), 'VARCHAR', true],
    [`TIMESTAMP '2024-03-31 02:00:00'`, 'TIMESTAMP', false],
    [`TIMESTAMP '2024-03-31 01:59:59.999999'`, 'TIMESTAMP', true],
    [`TIMESTAMP '2024-10-27 02:30:00'`, 'TIMESTAMP', true],
  ])('%s (%s) exists in Europe/Berlin: %s', async (literal, sourceType, expected) => {
    expect(await exact(literal, sourceType, 'timestamptz', { timeZone: 'Europe/Berlin' })).toBe(expected);
  });
});

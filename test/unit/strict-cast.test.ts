/** Strict casts: the exact SQL, and which values pass on a real (in-memory) DuckDB. */
import { Engine } from '../../src/engine/duckdb';
import { quoteLiteral } from '../../src/engine/sql';
import { exactCastCondition, strictCastSql } from '../../src/engine/strict-cast';

describe('strict casts', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.create();
  });
  afterAll(() => engine.close());

  /** Whether a value of the given source type converts exactly to the type. */
  async function exact(literal: string, sourceType: string, type: string): Promise<boolean> {
    const condition = exactCastCondition('v', sourceType, type);
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
});

/**
 * The canonical encoding is a stored contract: these vectors pin it. If one changes, every
 * stored hash would compare as different, so a change here needs HASH_ENCODING_VERSION bumped
 * (unless it only gives values that are equal one text, as for NaNs of either sign: rows stored
 * with the other text then come out U once).
 */
import { createHash } from 'node:crypto';
import { Engine } from '../../src/engine/duckdb';
import { canonicalText, hashExpression } from '../../src/engine/hashing';
import { quoteIdent } from '../../src/engine/sql';

describe('canonical hashing', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.create();
  });
  afterAll(() => engine.close());

  async function hash(sqlValues: string, columns: { name: string; type: string }[]): Promise<string> {
    const [row] = await engine.withSession((s) =>
      s.rows<{ h: string }>(`SELECT CAST(${hashExpression(columns, 't')} AS VARCHAR) AS h FROM (SELECT ${sqlValues}) t`),
    );
    return row.h;
  }
  const v = (n: string, type: string) => ({ name: n, type });

  it('is md5 of the length-prefixed encoding, as a UUID', async () => {
    // md5('V1:a' || 'N') computed independently: printf 'V1:aN' | md5sum
    const expected = createHash('md5').update('V1:aN').digest('hex');
    const h = await hash(`'a' AS x, NULL::VARCHAR AS y`, [v('x', 'varchar'), v('y', 'varchar')]);
    expect(h.replace(/-/g, '')).toBe(expected);
  });

  it('keeps adjacent values apart and NULL apart from the text NULL', async () => {
    const cols = [v('a', 'varchar'), v('b', 'varchar')];
    expect(await hash(`'a' AS a, 'bc' AS b`, cols)).not.toBe(await hash(`'ab' AS a, 'c' AS b`, cols));
    expect(await hash(`NULL::VARCHAR AS a, 'x' AS b`, cols)).not.toBe(await hash(`'NULL' AS a, 'x' AS b`, cols));
    expect(await hash(`'' AS a, 'x' AS b`, cols)).not.toBe(await hash(`NULL::VARCHAR AS a, 'x' AS b`, cols));
  });

  it.each([
    ['integer', `42::INTEGER`, 'V2:42'],
    ['bigint', `-9007199254740993::BIGINT`, 'V17:-9007199254740993'],
    ['decimal(10,2)', `1.5::DECIMAL(10,2)`, 'V4:1.50'],
    ['double', `0.1::DOUBLE`, 'V19:0.10000000000000001'],
    ['double', `-0.0::DOUBLE`, 'V1:0'],
    ['double', `1e300::DOUBLE`, 'V23:1.0000000000000001e+300'],
    ['double', `'nan'::DOUBLE`, 'V3:nan'],
    ['double', `-('nan'::DOUBLE)`, 'V3:nan'],
    ['boolean', `true`, 'V4:true'],
    ['date', `DATE '2024-02-29'`, 'V10:2024-02-29'],
    ['timestamp', `TIMESTAMP '2024-01-01 10:00:00.5'`, 'V26:2024-01-01 10:00:00.500000'],
    ['timestamptz', `TIMESTAMPTZ '2024-01-01 10:00:00.5-08'`, 'V29:2024-01-01 18:00:00.500000+00'],
    ['varchar', `'né'`, 'V3:né'],
  ])('pins the text form of %s %s', async (type, literal, encoding) => {
    const expected = createHash('md5').update(encoding).digest('hex');
    expect((await hash(`${literal} AS c`, [v('c', type)])).replace(/-/g, '')).toBe(expected);
  });

  it('hashes no columns to the md5 of the empty string', async () => {
    expect((await hash(`1 AS c`, [])).replace(/-/g, '')).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });

  /** The expression of encoding version 1 as first written (chained `||`): the SQL may change, its values may not. */
  function versionOneExpression(columns: readonly { name: string; type: string }[], alias: string): string {
    const encode = (c: { name: string; type: string }) => {
      const ref = `${alias}.${quoteIdent(c.name)}`;
      const text = canonicalText(ref, c.type);
      return `CASE WHEN ${ref} IS NULL THEN 'N' ELSE 'V' || strlen(${text}) || ':' || ${text} END`;
    };
    return `CAST(md5(${columns.map(encode).join(' || ')}) AS UUID)`;
  }

  it('gives the values of the version-1 expression over many typed values, NULLs and edge cases included', async () => {
    const columns = [
      v('s', 'varchar'),
      v('d', 'double'),
      v('ts', 'timestamp'),
      v('tz', 'timestamptz'),
      v('dt', 'date'),
      v('b', 'boolean'),
      v('n', 'decimal(18,3)'),
      v('i', 'integer'),
      v('g', 'bigint'),
      v('e', 'varchar'),
    ];
    // Each column cycles through its own edge cases and generated values, NULL among them, so that
    // rows mix NULLs, empty text, multi-byte text, special doubles and timestamps differently.
    const pick = (values: string[], generated: string, type: string) =>
      `CASE i % ${values.length + 1} ${values.map((value, j) => `WHEN ${j} THEN CAST(${value} AS ${type})`).join(' ')} ELSE CAST(${generated} AS ${type}) END`;
    const rows =
      `SELECT ${pick([`NULL`, `''`, `'né'`, `'日本語 🙂'`, `'N'`, `'V1:a'`, `'a''b'`, `'NULL'`, `' '`], `md5(CAST(i AS VARCHAR))`, 'VARCHAR')} AS s, ` +
      `${pick([`NULL`, `0.0`, `-0.0`, `'nan'`, `'inf'`, `'-inf'`, `1e300`, `5e-324`, `0.1`, `-1.5e-7`], `i * 1.1e-3 - 7`, 'DOUBLE')} AS d, ` +
      `${pick([`NULL`, `'infinity'`, `'-infinity'`, `'1970-01-01'`, `'2024-02-29 23:59:59.999999'`, `'0001-01-01'`], `TIMESTAMP '2020-01-01' + to_microseconds(i * 1234567)`, 'TIMESTAMP')} AS ts, ` +
      `${pick([`NULL`, `'infinity'`, `'2024-01-01 10:00:00.5-08'`, `'1999-12-31 23:59:59+13'`], `TIMESTAMPTZ '2020-01-01 00:00:00+00' + to_microseconds(i * 7654321)`, 'TIMESTAMPTZ')} AS tz, ` +
      `${pick([`NULL`, `'-infinity'`, `'2024-02-29'`, `'0001-01-01'`], `DATE '2000-01-01' + CAST(i % 9000 AS INTEGER)`, 'DATE')} AS dt, ` +
      `${pick([`NULL`, `true`], `i % 2 = 0`, 'BOOLEAN')} AS b, ` +
      `${pick([`NULL`, `0`, `-0.001`, `999999999999999.999`], `i / 1000.0`, 'DECIMAL(18,3)')} AS n, ` +
      `${pick([`NULL`, `0`, `-2147483648`, `2147483647`], `i % 100000 - 50000`, 'INTEGER')} AS i, ` +
      `${pick([`NULL`, `-9223372036854775808`, `9223372036854775807`], `i * 1000003`, 'BIGINT')} AS g, ` +
      `${pick([`NULL`, `''`], `repeat('x', CAST(i % 5 AS INTEGER))`, 'VARCHAR')} AS e ` +
      `FROM range(5000) r(i)`;
    // Every column alone, every prefix, and all of them: the hashes of any column list agree.
    const lists = [...columns.map((c) => [c]), ...columns.map((_, n) => columns.slice(0, n + 1))];
    const comparisons = lists.map(
      (list, n) => `count(*) FILTER (WHERE ${hashExpression(list, 't')} IS DISTINCT FROM ${versionOneExpression(list, 't')}) AS differ_${n}`,
    );
    const [counts] = await engine.withSession((s) =>
      s.rows<Record<string, number | string>>(`SELECT count(*) AS total, ${comparisons.join(', ')} FROM (${rows}) t`),
    );
    expect(Number(counts.total)).toBe(5000);
    expect(Object.entries(counts).filter(([name, n]) => name !== 'total' && Number(n) !== 0)).toEqual([]);
  });
});

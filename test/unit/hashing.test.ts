/**
 * The canonical encoding is a stored contract: these vectors pin it. If one changes, every
 * stored hash would compare as different, so a change here needs HASH_ENCODING_VERSION bumped.
 */
import { createHash } from 'node:crypto';
import { Engine } from '../../src/engine/duckdb';
import { hashExpression } from '../../src/engine/hashing';

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
});

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../src/engine/duckdb';
import { quoteLiteral } from '../../src/engine/sql';
import { concatParquet } from '../../src/warehouse/parquet-concat';
import { ThriftReader, ThriftWriter } from '../../src/warehouse/thrift-compact';

const footerOf = (file: string) => {
  const bytes = readFileSync(file);
  const length = bytes.readUInt32LE(bytes.length - 8);
  return bytes.subarray(bytes.length - 8 - length, bytes.length - 8);
};

describe('joining Parquet files by their bytes', () => {
  let dir: string;
  let engine: Engine;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdcflow-concat-'));
    engine = await Engine.create({ threads: 2 });
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Several row groups, dictionaries with bloom filters (`low`), NULLs, nested and decimal columns, an empty file.
  const write = (file: string, rows: number, first: number, extra = '') =>
    engine.withSession((s) =>
      s.run(
        `COPY (SELECT ${first} + range AS id, 'cat' || (range % 7) AS low, CASE WHEN range % 3 = 0 THEN NULL ELSE md5(range::VARCHAR) END AS high, ` +
          `DATE '2024-01-01' + (range % 100)::INT AS day, (range * 1.25)::DECIMAL(18,2) AS amount, [range, range + 1] AS pair, {'a': range, 'b': 'x'} AS rec${extra} ` +
          `FROM range(${rows}) ORDER BY id) TO ${quoteLiteral(file)} (FORMAT parquet)`,
      ),
    );
  const rows = (sql: string) => engine.withSession((s) => s.rows<Record<string, string>>(sql));

  it('gives one file of every row, in the order of the files, that DuckDB reads, filters and describes as the files themselves', async () => {
    const files = [0, 1, 2, 3].map((i) => path.join(dir, `part${i}.parquet`));
    const sizes = [300_000, 0, 5, 200_000];
    for (const [i, file] of files.entries()) await write(file, sizes[i], i * 1_000_000);
    // The footer codec gives back the bytes it read.
    for (const file of files) expect(new ThriftWriter().struct(new ThriftReader(footerOf(file)).struct()).toBuffer().equals(footerOf(file))).toBe(true);

    const out = path.join(dir, 'joined.parquet');
    expect(await concatParquet(files, out)).toBe(true);
    const list = `[${files.map(quoteLiteral).join(', ')}]`;
    const joined = quoteLiteral(out);
    expect(await rows(`SELECT count(*)::VARCHAR AS n FROM ${joined}`)).toEqual([{ n: '500005' }]);
    for (const [a, b] of [
      [joined, `read_parquet(${list})`],
      [`read_parquet(${list})`, joined],
    ]) {
      expect(await rows(`SELECT count(*)::VARCHAR AS n FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b})`)).toEqual([{ n: '0' }]);
    }
    // Row order: the files' rows one file after the other (ids ascend across them).
    expect(await rows(`SELECT count(*)::VARCHAR AS n FROM (SELECT id, lag(id) OVER (ORDER BY file_row_number) AS prev FROM read_parquet(${joined}, file_row_number = true)) WHERE id < prev`)).toEqual([{ n: '0' }]);
    // Statistics and bloom filters still point at their pages: filtered reads agree.
    const filtered = (from: string) => rows(`SELECT count(*)::VARCHAR AS n, sum(id)::VARCHAR AS s FROM ${from} WHERE low = 'cat3' AND id > 3000000`);
    expect(await filtered(joined)).toEqual(await filtered(`read_parquet(${list})`));
    const groups = await rows(`SELECT count(DISTINCT row_group_id)::VARCHAR AS n, sum(row_group_num_rows)::VARCHAR AS r FROM (SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${joined}))`);
    const parts = await rows(`SELECT count(*)::VARCHAR AS n FROM (SELECT DISTINCT file_name, row_group_id FROM parquet_metadata(${list}))`);
    expect(groups).toEqual([{ n: parts[0].n, r: '500005' }]);

    // The same files give the same bytes.
    const again = path.join(dir, 'again.parquet');
    await concatParquet(files, again);
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
  });

  it('writes nothing and says so for files of different schemas', async () => {
    const a = path.join(dir, 'a.parquet');
    const b = path.join(dir, 'b.parquet');
    await write(a, 10, 0);
    await write(b, 10, 100, ', 1 AS more');
    const out = path.join(dir, 'mixed.parquet');
    expect(await concatParquet([a, b], out)).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a file that is not Parquet, naming it', async () => {
    const a = path.join(dir, 'ok.parquet');
    await write(a, 10, 0);
    const bad = path.join(dir, 'notes.parquet');
    writeFileSync(bad, 'not parquet at all');
    await expect(concatParquet([a, bad], path.join(dir, 'x.parquet'))).rejects.toThrow(/notes\.parquet is not a Parquet file/);
  });
});

/** Reading sources exactly as configured: the CSV call, the header split, hostile paths and names. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { FileSourceSpec } from '../../src/config/types';
import { Engine } from '../../src/engine/duckdb';
import { splitFirstRecord } from '../../src/sources/csv-header';
import { readSourceSql } from '../../src/sources/file-source';

const csv = (over: Partial<FileSourceSpec['csv']> = {}): FileSourceSpec => ({
  format: 'csv',
  path: '/in/*.csv',
  csv: { header: true, delimiter: ',', quote: '"', nullString: '', ...over },
  extraColumns: 'ignore',
  missingColumns: 'refuse',
  extract: false,
});

describe('file sources', () => {
  it('gives DuckDB the whole CSV dialect and the columns, and sniffs nothing', () => {
    expect(readSourceSql(csv(), [{ path: '/in/a.csv', columns: ['id', 'v'] }])).toBe(
      `read_csv('/in/a.csv', auto_detect = false, buffer_size = 8000000, columns = {'id': 'VARCHAR', 'v': 'VARCHAR'}, header = true, skip = 0, ` +
        `delim = ',', quote = '"', escape = '"', comment = '', nullstr = '', allow_quoted_nulls = false, strict_mode = true, encoding = 'utf-8', hive_partitioning = false)`,
    );
  });

  it('reads several CSV files one by one and combines them by name', () => {
    const sql = readSourceSql(csv(), [
      { path: '/in/a.csv', columns: ['id'] },
      { path: '/in/b.csv', columns: ['id'] },
    ]);
    expect(sql).toMatch(/^\(SELECT \* FROM read_csv\('\/in\/a\.csv', .*\) UNION ALL BY NAME SELECT \* FROM read_csv\('\/in\/b\.csv', .*\)\)$/);
  });

  it('splits the header with the configured delimiter and quote', () => {
    expect(splitFirstRecord('id;"a;b";"it""s"\n1;2;3\n', ';', '"')).toEqual({ fields: ['id', 'a;b', 'it"s'], complete: true });
    expect(splitFirstRecord('id,v\r\n1,2', ',', '"')).toEqual({ fields: ['id', 'v'], complete: true });
    expect(splitFirstRecord('"a\nb",c\n', ',', '"')).toEqual({ fields: ['a\nb', 'c'], complete: true });
    expect(splitFirstRecord('"open', ',', '"')).toEqual({ fields: ['open'], complete: false });
    expect(splitFirstRecord('"say \\"hi\\"","C:\\\\x"\n', ',', '"', '\\')).toEqual({ fields: ['say "hi"', 'C:\\x'], complete: true });
  });

  it('keeps "" an empty string and only the unquoted null string NULL, with hostile names and paths quoted', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cdcflow-src-it's-"));
    const file = path.join(dir, "o'brien.csv");
    const name = `k"; DROP TABLE x; --`;
    writeFileSync(file, `"${name.replace(/"/g, '""')}",v\n1,""\n2,\n3,NA\n4,"NA"\n`);
    const engine = await Engine.create();
    try {
      const rows = await engine.withSession((s) =>
        s.rows(`SELECT * FROM ${readSourceSql(csv({ nullString: 'NA' }), [{ path: file, columns: [name, 'v'] }])} ORDER BY 1`),
      );
      expect(rows).toEqual([
        { [name]: '1', v: '' },
        { [name]: '2', v: '' },
        { [name]: '3', v: null },
        { [name]: '4', v: 'NA' },
      ]);
    } finally {
      await engine.close();
    }
  });
});

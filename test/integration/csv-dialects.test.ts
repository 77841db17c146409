/**
 * CSV files as exporters write them (PostgreSQL COPY, MySQL INTO OUTFILE, Excel in a European
 * locale, pandas, multi-line fields, boolean spellings), through the real workflow: each is
 * loaded exactly, or refused naming the file, line and column and saying what to configure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DatasetConfig } from '../../src/config/types';
import { datasetFolders, failedTable, type Harness, readRows, runDataset, startHarness, succeeded, tableResult } from '../support/harness';

const DAY1 = '2024-01-01';

describe('CSV dialects', () => {
  let h: Harness;
  const folders = datasetFolders('csvd');

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
    folders.removeAll();
  });

  /** A table `t` keyed by integer `id`, read from t/{date}.csv with the given columns and csv options. */
  function setup(columns: object[], csv?: object): { dir: string; config: DatasetConfig } {
    return folders.setup([{ name: 't', keys: [{ name: 'id', type: 'integer' }], columns, source: { format: 'csv', path: 't/{date}.csv', ...(csv ? { csv } : {}) } }]);
  }
  /** Writes day 1's file byte for byte. */
  function writeDay1(dir: string, content: string): void {
    mkdirSync(path.join(dir, 't'), { recursive: true });
    writeFileSync(path.join(dir, 't', `${DAY1}.csv`), content);
  }
  const current = (config: DatasetConfig) => readRows(h.engine, path.join(config.warehouse, config.dataset, 't', 'current.parquet'), 'id', ['KEY_HASH', 'NONKEY_HASH', 'OPERATION', 'EFF_START_DATE']);

  it('PostgreSQL COPY (FORMAT csv, HEADER): t/f booleans, empty field NULL, "" empty text, offsets, bytea text', async () => {
    const { dir, config } = setup([
      { name: 'b', type: 'boolean' },
      { name: 's', type: 'varchar' },
      { name: 'at', type: 'timestamptz' },
      { name: 'raw', type: 'varchar' },
    ]);
    writeDay1(dir, 'id,b,s,at,raw\n1,t,,2024-01-01 10:00:00+01,\\x0102ff\n2,f,"",2024-01-01 10:00:00.5-08:00,\n');
    succeeded(await runDataset(h, config, DAY1));
    const rows = await current(config);
    expect(rows).toEqual([
      { id: 1, b: true, s: null, at: '2024-01-01 09:00:00+00', raw: '\\x0102ff' },
      { id: 2, b: false, s: '', at: '2024-01-01 18:00:00.5+00', raw: null },
    ]);
  });

  it('MySQL: \\N into a typed column is refused saying to set nullString; a backslash-escaped quote says to set escape', async () => {
    const nulls = setup([{ name: 'n', type: 'integer' }]);
    writeDay1(nulls.dir, 'id,n\n1,5\n2,\\N\n');
    expect(failedTable(await runDataset(h, nulls.config, DAY1), 't')).toContain(
      'value "\\\\N" in column "n" does not convert exactly to integer (MySQL writes NULL as \\N: set csv.nullString: "\\\\N")',
    );

    const quotes = setup([{ name: 's', type: 'varchar' }]);
    writeDay1(quotes.dir, 'id,s\n1,plain\n2,"say \\"hi\\""\n');
    const error = failedTable(await runDataset(h, quotes.config, DAY1), 't');
    expect(error).toContain('line 3 cannot be read as configured: Value with unterminated quote found');
    expect(error).toContain('(a backslash before a quote, as MySQL writes it: set csv.escape: "\\\\")');
  });

  it('MySQL with csv.escape "\\\\": escaped quotes, backslashes and line breaks are read as the text they stand for', async () => {
    const { dir, config } = setup([{ name: 's', type: 'varchar' }, { name: 'b', type: 'boolean' }], { escape: '\\' });
    writeDay1(dir, 'id,s,b\n1,"say \\"hi\\"",1\n2,"C:\\\\temp",0\n3,"two\\\nlines",1\n4,"",0\n');
    succeeded(await runDataset(h, config, DAY1));
    expect(await current(config)).toEqual([
      { id: 1, s: 'say "hi"', b: true },
      { id: 2, s: 'C:\\temp', b: false },
      { id: 3, s: 'two\nlines', b: true },
      { id: 4, s: '', b: false },
    ]);

    // DuckDB refuses \N as the null string beside this escape, so a \N cannot be NULL: said so, not "set nullString".
    const nulls = setup([{ name: 'b', type: 'boolean' }], { escape: '\\' });
    writeDay1(nulls.dir, 'id,b\n1,\\N\n');
    expect(failedTable(await runDataset(h, nulls.config, DAY1), 't')).toContain(
      'value "\\\\N" in column "b" does not convert exactly to boolean (MySQL writes NULL as \\N, which cannot be read as NULL beside csv.escape "\\\\")',
    );
  });

  it('Excel in a European locale: ";", CRLF, a BOM and d.m.Y dates load; a decimal comma is refused saying so', async () => {
    const { dir, config } = setup([{ name: 'day', type: 'date', format: '%d.%m.%Y' }, { name: 'amount', type: 'decimal(10,2)' }], { delimiter: ';' });
    writeDay1(dir, '\uFEFFid;day;amount\r\n1;31.12.2024;12.50\r\n');
    succeeded(await runDataset(h, config, DAY1));
    expect(await current(config)).toEqual([{ id: 1, day: '2024-12-31', amount: '12.50' }]);

    const dotted = setup([{ name: 'day', type: 'date' }], { delimiter: ';' });
    writeDay1(dotted.dir, 'id;day\r\n1;31.12.2024\r\n');
    expect(failedTable(await runDataset(h, dotted.config, DAY1), 't')).toContain(
      'value "31.12.2024" in column "day" does not convert exactly to date (not ISO 8601: give the column a format in strptime notation, e.g. format: "%d.%m.%Y")',
    );

    const comma = setup([{ name: 'amount', type: 'decimal(10,2)' }], { delimiter: ';' });
    writeDay1(comma.dir, '\uFEFFid;amount\r\n1;12.50\r\n2;12,50\r\n');
    const error = failedTable(await runDataset(h, comma.config, DAY1), 't');
    expect(error).toContain('value "12,50" in column "amount" does not convert exactly to decimal(10,2) (a decimal comma: numbers are read with a decimal point only');
    expect(error).toContain('line=3');
  });

  it('a quoted field spanning lines is loaded whole, and a later bad row is named by its own line', async () => {
    const { dir, config } = setup([{ name: 'note', type: 'varchar' }, { name: 'n', type: 'integer' }]);
    const multiLine = 'id,note,n\n1,"first\nsecond\nthird",1\n2,plain,2\n';
    writeDay1(dir, multiLine);
    succeeded(await runDataset(h, config, DAY1));
    expect(await current(config)).toEqual([
      { id: 1, note: 'first\nsecond\nthird', n: 1 },
      { id: 2, note: 'plain', n: 2 },
    ]);

    // Row 3 starts on line 6: lines 2-4 hold row 1.
    const cast = setup([{ name: 'note', type: 'varchar' }, { name: 'n', type: 'integer' }]);
    writeDay1(cast.dir, `${multiLine}3,x,seven\n`);
    expect(failedTable(await runDataset(h, cast.config, DAY1), 't')).toContain('row=3 line=6 column=n');

    const ragged = setup([{ name: 'note', type: 'varchar' }, { name: 'n', type: 'integer' }]);
    writeDay1(ragged.dir, `${multiLine}3,x,3,extra\n`);
    expect(failedTable(await runDataset(h, ragged.config, DAY1), 't')).toContain('line 6 cannot be read as configured: Expected Number of Columns: 3 Found: 4: "3,x,3,extra"');

    const duplicate = setup([{ name: 'note', type: 'varchar' }, { name: 'n', type: 'integer' }]);
    writeDay1(duplicate.dir, `${multiLine}1,again,3\n`);
    expect(failedTable(await runDataset(h, duplicate.config, DAY1), 't')).toMatch(/row=3 line=6/);
  });

  it('booleans: t/f, yes/no, y/n, 1/0 in any case load; padded or other spellings are refused', async () => {
    const { dir, config } = setup([{ name: 'b', type: 'boolean' }]);
    writeDay1(dir, 'id,b\n1,TRUE\n2,no\n3,Y\n4,n\n5,T\n6,0\n');
    succeeded(await runDataset(h, config, DAY1));
    expect((await current(config)).map((r) => r.b)).toEqual([true, false, true, false, true, false]);

    const padded = setup([{ name: 'b', type: 'boolean' }]);
    writeDay1(padded.dir, 'id,b\n1,true\n2, true \n');
    expect(failedTable(await runDataset(h, padded.config, DAY1), 't')).toContain('value " true " in column "b" does not convert exactly to boolean');
    const on = setup([{ name: 'b', type: 'boolean' }]);
    writeDay1(on.dir, 'id,b\n1,on\n');
    expect(failedTable(await runDataset(h, on.config, DAY1), 't')).toContain('value "on" in column "b" does not convert exactly to boolean');
  });

  it('pandas to_csv: an unnamed index column is ignored (or read as column0), NaN written empty is NULL, 1.0 into an integer is refused', async () => {
    const { dir, config } = setup([{ name: 'x', type: 'double' }, { name: 'k', type: 'bigint' }, { name: 'pos', source: 'column0', type: 'integer' }]);
    writeDay1(dir, ',id,x,k\n0,1,1.5,3\n1,2,,\n');
    expect(tableResult(succeeded(await runDataset(h, config, DAY1)), 't').counts.I).toBe(2);
    expect(await current(config)).toEqual([
      { id: 1, x: 1.5, k: '3', pos: 0 },
      { id: 2, x: null, k: null, pos: 1 },
    ]);

    const floats = setup([{ name: 'k', type: 'bigint' }], { header: true });
    writeDay1(floats.dir, ',id,k\n0,1,3.0\n');
    expect(failedTable(await runDataset(h, floats.config, DAY1), 't')).toContain(
      'value "3.0" in column "k" does not convert exactly to bigint (a whole number written as a float, as pandas writes an integer column with missing values',
    );
  });

  it('Spark part files: every part read with its header, _SUCCESS and .crc files left out, ISO timestamps with offsets', async () => {
    const { dir, config } = folders.setup([
      {
        name: 't',
        keys: [{ name: 'id', type: 'integer' }],
        columns: [{ name: 'at', type: 'timestamptz' }, { name: 's', type: 'varchar' }],
        source: { format: 'csv', path: 't/{date}/part-*.csv', readyFile: 't/{date}/_SUCCESS' },
      },
    ]);
    const out = path.join(dir, 't', DAY1);
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'part-00000-1b2c.c000.csv'), 'id,at,s\n1,2024-01-01T10:00:00.000+01:00,""\n');
    writeFileSync(path.join(out, '.part-00000-1b2c.c000.csv.crc'), 'crc');
    writeFileSync(path.join(out, 'part-00001-1b2c.c000.csv'), 'id,at,s\n2,2024-01-01T10:00:00.000Z,\n');
    writeFileSync(path.join(out, '_SUCCESS'), '');
    succeeded(await runDataset(h, config, DAY1));
    expect(await current(config)).toEqual([
      { id: 1, at: '2024-01-01 09:00:00+00', s: '' },
      { id: 2, at: '2024-01-01 10:00:00+00', s: null },
    ]);
  });
});

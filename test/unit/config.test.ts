import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkConfigText, loadConfig, resolveConfig } from '../../src/config/load';
import { configJsonSchema } from '../../src/config/schema';
import { assertIsoDate } from '../../src/warehouse/layout';

const root = path.resolve(__dirname, '../..');

describe('config', () => {
  it('reports every problem with its field path and line', () => {
    const { problems } = checkConfigText(
      [
        'dataset: shop',
        'warehouse: out',
        'tables:',
        '  - name: t',
        '    keys: [{ name: id, type: int128 }]',
        '    columns: [{ name: v, type: money }]',
        '    source: { format: csv, path: x.csv }',
        '  - name: u',
        '    source: { format: xml, path: y }',
      ].join('\n'),
    );
    expect(problems).toEqual([
      expect.objectContaining({ path: 'tables[0].keys[0].type', line: 5 }),
      expect.objectContaining({ path: 'tables[0].columns[0].type', line: 6 }),
      expect.objectContaining({ path: 'tables[1].keys', line: 8 }),
      expect.objectContaining({ path: 'tables[1].source.format', line: 9 }),
    ]);
  });

  it('resolves defaults and paths against the config folder, or --input for sources', () => {
    const { file } = checkConfigText('dataset: d\nwarehouse: wh\ntables:\n  - name: t\n    keys: [{ name: id, type: VARCHAR }]\n    source: { format: csv, path: "{date}/t.csv" }\n');
    const resolved = resolveConfig(file!, '/etc/cdc', { inputDir: '/in' });
    expect(resolved.warehouse).toBe('/etc/cdc/wh');
    expect(resolved.tables[0]).toMatchObject({ mode: 'full', keys: [{ name: 'id', type: 'varchar' }], source: { path: '/in/{date}/t.csv' } });
    expect(resolveConfig(file!, '/etc/cdc').tables[0].source).toMatchObject({ path: '/etc/cdc/{date}/t.csv' });
  });

  it('takes an s3:// source path as it is; other URL schemes, bad bucket names and .. segments are refused', () => {
    const config = (sourcePath: string, sinkPath = 'out.duckdb') =>
      checkConfigText(
        `dataset: d\nwarehouse: wh\ntables:\n  - name: t\n    keys: [{ name: id, type: bigint }]\n` +
          `    source: { format: csv, path: ${JSON.stringify(sourcePath)} }\n    sinks: [{ type: duckdb, path: ${JSON.stringify(sinkPath)} }]\n`,
      );
    const { file, problems } = config('s3://my-bucket.eu/exports/{date}/**/orders-*.csv');
    expect(problems).toEqual([]);
    expect(resolveConfig(file!, '/etc/cdc', { inputDir: '/in' }).tables[0].source).toMatchObject({ path: 's3://my-bucket.eu/exports/{date}/**/orders-*.csv' });
    const problem = (sourcePath: string) => config(sourcePath).problems.map((p) => `${p.path}: ${p.message}`);
    for (const url of ['gs://b/exports/t.csv', 'https://example.com/t.csv', 's3a://b/t.csv']) {
      expect(problem(url)).toEqual(['tables[0].source.path: must be a path on the file system or an s3://bucket/key URL: s3:// is the one URL scheme supported']);
    }
    for (const bucket of ['My_Bucket', 'ab', 'a..b', '192.168.1.1', '-b-', '{date}']) {
      expect(problem(`s3://${bucket}/t.csv`)).toEqual([expect.stringMatching(/^tables\[0\]\.source\.path: the bucket ".*" is not a valid S3 bucket name/)]);
    }
    expect(problem('s3://bucket')).toEqual([expect.stringContaining('must name the objects after the bucket')]);
    expect(problem('s3://bucket/exports/../secrets/t.csv')).toEqual(['tables[0].source.path: must not contain ".." segments']);
    expect(config('t.csv', 's3://bucket/out.duckdb').problems).toEqual([
      expect.objectContaining({ path: 'tables[0].sinks[0].path', message: expect.stringContaining('must be a path on the file system, not a URL such as s3://') }),
    ]);
  });

  it('refuses a sensitive column as the watermark, whose latest value is kept in the commit log and run results', () => {
    const config = (columns: string) =>
      checkConfigText(
        `dataset: d\nwarehouse: wh\ntables:\n  - name: t\n    keys: [{ name: id, type: bigint }]\n    columns: ${columns}\n` +
          '    source: { format: postgres, connection: U, table: a.b, watermark: { column: Updated_At } }\n',
      );
    expect(config('[{ name: updated_at, type: timestamp, sensitive: true }]').problems).toEqual([
      expect.objectContaining({ path: 'tables[0].source.watermark.column', message: expect.stringContaining('must not be a sensitive column') }),
    ]);
    expect(config('[{ name: updated_at, type: timestamp }, { name: ssn, type: varchar, sensitive: true }]').problems).toEqual([]);
  });

  it('takes a postgres source: a schema-qualified table or a query, and the name of the variable holding the connection', () => {
    const config = (source: string) =>
      checkConfigText(`dataset: d\nwarehouse: wh\ntables:\n  - name: t\n    keys: [{ name: id, type: bigint }]\n    source: ${source}\n`);
    const { file } = config('{ format: postgres, connection: SHOP_DB_URL, table: "Sales.Order Lines", watermark: { column: updated_at } }');
    expect(resolveConfig(file!, '/etc/cdc').tables[0].source).toEqual({
      format: 'postgres',
      connection: 'SHOP_DB_URL',
      table: { schema: 'Sales', name: 'Order Lines' },
      query: null,
      chunkRows: 50_000,
      concurrentChunks: 2,
      watermark: 'updated_at',
      extract: true,
    });
    expect(resolveConfig(config('{ format: postgres, connection: U, query: "SELECT 1 AS id", chunkRows: 10, concurrentChunks: 1 }').file!, '/').tables[0].source).toMatchObject({
      table: null,
      query: 'SELECT 1 AS id',
      chunkRows: 10,
      concurrentChunks: 1,
    });
    expect(resolveConfig(config('{ format: csv, path: t.csv }').file!, '/').tables[0].source).toMatchObject({ extract: false });
    const lookback = (value: string) => config(`{ format: postgres, connection: U, table: a.b, watermark: { column: updated_at, lookback: ${value} } }`);
    expect(resolveConfig(lookback('"1 hour 30 minutes"').file!, '/').tables[0].source).toMatchObject({ watermark: 'updated_at', watermarkLookback: '1 hour 30 minutes' });
    expect(resolveConfig(lookback('500').file!, '/').tables[0].source).toMatchObject({ watermarkLookback: 500 });
    for (const good of ['"15min"', '"2 hrs"', '"1h30m"', '"90 seconds"']) expect(lookback(good).problems).toEqual([]);
    // Only a duration or a positive number reaches PostgreSQL.
    for (const bad of ['"15 minutes\'); DROP TABLE x; --"', '"soon"', '"1 month"', '0', '-5']) {
      expect(lookback(bad).problems).toEqual([expect.objectContaining({ path: 'tables[0].source.watermark.lookback' })]);
    }

    expect(config('{ format: postgres, connection: "postgres://u:secret@h/db", table: orders }').problems).toEqual([
      expect.objectContaining({ path: 'tables[0].source.connection', message: expect.stringContaining('NAME of an environment variable') }),
      expect.objectContaining({ path: 'tables[0].source.table', message: 'must be schema-qualified: schema.table' }),
    ]);
    expect(config('{ format: postgres, connection: U }').problems).toEqual([
      expect.objectContaining({ path: 'tables[0].source', message: 'needs exactly one of table and query' }),
    ]);
    expect(config('{ format: postgres, connection: U, table: a.b, query: "SELECT 1;", chunkRows: 0, concurrentChunks: 0 }').problems.map((p) => p.message)).toEqual([
      'must be one SELECT without a trailing semicolon',
      expect.stringContaining('>=1'),
      expect.stringContaining('>=1'),
      'needs exactly one of table and query',
    ]);
  });

  it('ships an example that validates and a JSON Schema in step with the code', () => {
    expect(() => loadConfig(path.join(root, 'config/example.yaml'))).not.toThrow();
    const shipped = JSON.parse(readFileSync(path.join(root, 'config/cdcflow.schema.json'), 'utf8'));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });
});

describe('business dates', () => {
  it.each(['2024-13-01', '2024-02-30', '2023-02-29', '24-01-01', '2024-1-1', "2024-01-01'"])('refuses %s', (d) => {
    expect(() => assertIsoDate(d)).toThrow(/not a valid YYYY-MM-DD date/);
  });
  it('accepts a leap day', () => expect(assertIsoDate('2024-02-29')).toBe('2024-02-29'));
});

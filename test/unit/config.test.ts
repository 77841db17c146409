import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { durationText } from '../../src/config/duration';
import { checkConfigText, loadConfig, resolveConfig } from '../../src/config/load';
import { configJsonSchema } from '../../src/config/schema';
import { scheduleId } from '../../src/client/schedules/schedule-ids';
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

  it('refuses column names over 63 bytes in a table with a PostgreSQL sink, which cuts them (two alike in 63 bytes failed its CREATE TABLE on every retry)', () => {
    const long = (tail: string) => `${'x'.repeat(60)}${tail}`;
    const config = (sink: string) =>
      checkConfigText(
        `dataset: d\nwarehouse: wh\ntables:\n  - name: t\n    keys: [{ name: ${long('_key')}, source: id, type: bigint }]\n` +
          `    columns: [{ name: ${long('_one')}, source: a, type: varchar }, { name: ${long('_two')}, source: b, type: varchar }, { name: ${long('üü')}, type: varchar }, { name: ${long('abc')}, type: varchar }]\n` +
          `    source: { format: postgres, connection: U, table: a.b }\n    sinks: [${sink}]\n`,
      ).problems.map((p) => `${p.path}: ${p.message}`);
    const refused = (path: string) => `tables[0].${path}.name: must be at most 63 bytes in a table with a PostgreSQL sink, which cuts longer names (name it shorter and read the source column with source: <its name>)`;
    expect(config('{ type: postgres, connection: SINK }')).toEqual([refused('keys[0]'), refused('columns[0]'), refused('columns[1]'), refused('columns[2]')]);
    // 63 bytes fit (62 characters of 64 bytes do not); a DuckDB file keeps names of any length.
    expect(config('{ type: duckdb, path: out.duckdb }')).toEqual([]);
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

  /** The problems of a table with this one non-key column, as `path: message`. */
  const columnProblems = (column: string) =>
    checkConfigText(`dataset: d\nwarehouse: wh\ntables:\n  - name: t\n    keys: [{ name: id, type: bigint }]\n    columns: [${column}]\n    source: { format: csv, path: x.csv }\n`).problems.map(
      (p) => `${p.path}: ${p.message}`,
    );

  it('takes a strptime format on date and timestamp columns, refusing one that would not read exactly', () => {
    expect(columnProblems('{ name: d, type: date, format: "%d/%m/%Y" }')).toEqual([]);
    expect(columnProblems('{ name: t, type: timestamp, format: "%m/%d/%Y %-I:%M %p" }')).toEqual([]);
    expect(columnProblems('{ name: t, type: timestamptz, format: "%Y-%m-%dT%H:%M:%S.%f%z" }')).toEqual([]);
    const at = 'tables[0].columns[0].format: ';
    expect(columnProblems('{ name: v, type: varchar, format: "%Y" }')).toEqual([`${at}applies only to date, timestamp, timestamptz columns, not varchar`]);
    expect(columnProblems('{ name: d, type: date, format: "%Y-%m-%e" }')).toEqual([`${at}has %e, which is not a strptime specifier DuckDB knows (e.g. %Y-%m-%d %H:%M:%S)`]);
    expect(columnProblems('{ name: d, type: date, format: "%Y-%m-%d %H:%M" }')).toEqual([`${at}must not read a time of day into a date`]);
    expect(columnProblems('{ name: t, type: timestamp, format: "%Y-%m-%d %H:%M%z" }')).toEqual([`${at}must not read a UTC offset or zone into a timestamp (use timestamptz)`]);
    expect(columnProblems('{ name: t, type: timestamptz, format: "%Y-%m-%d %H:%M:%S.%n" }')).toEqual([
      `${at}must not use %n: timestamps hold microseconds (%f); configure varchar to keep nanoseconds`,
    ]);
    expect(columnProblems('{ name: d, type: date, format: "today" }')).toEqual([`${at}has no specifier such as %Y`]);
  });

  it('takes a one-character csv.escape, refusing a nullString that holds it (DuckDB cannot read both)', () => {
    const csvProblems = (csv: string) =>
      checkConfigText(`dataset: d\nwarehouse: wh\ntables:\n  - name: t\n    keys: [{ name: id, type: bigint }]\n    source: { format: csv, path: x.csv, csv: ${csv} }\n`).problems.map(
        (p) => `${p.path}: ${p.message}`,
      );
    expect(csvProblems('{ escape: "\\\\" }')).toEqual([]);
    expect(csvProblems(`{ escape: "\\\\", nullString: "NULL" }`)).toEqual([]);
    expect(csvProblems('{ escape: "\\\\", nullString: "\\\\N" }')).toEqual(['tables[0].source.csv.nullString: must not hold csv.escape ("\\\\"): DuckDB cannot read such a file']);
    expect(csvProblems('{ escape: "ab" }')).toEqual(['tables[0].source.csv.escape: must be one character']);
  });

  it('takes a timeZone on timestamptz columns only, and only a time zone name', () => {
    expect(columnProblems('{ name: t, type: timestamptz, timeZone: Europe/Berlin }')).toEqual([]);
    expect(columnProblems('{ name: t, type: timestamptz, timeZone: UTC, format: "%d.%m.%Y %H:%M" }')).toEqual([]);
    const at = 'tables[0].columns[0].timeZone: ';
    expect(columnProblems('{ name: t, type: timestamp, timeZone: Europe/Berlin }')).toEqual([
      `${at}applies only to timestamptz columns, not timestamp (a timestamp is a wall-clock time in no zone)`,
    ]);
    for (const typo of ['Europe/Berlín', 'Europe/Berlim', 'CEST', '+02:00']) {
      expect(columnProblems(`{ name: t, type: timestamptz, timeZone: "${typo}" }`)).toEqual([
        `${at}is not an IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC)`,
      ]);
    }
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

  describe('columns read from a source column named otherwise (source)', () => {
    const config = (columns: string, source = '{ format: csv, path: t.csv }', extra = '') =>
      checkConfigText(`dataset: d\nwarehouse: wh\ntables:\n  - name: t\n    keys: [{ name: id, type: bigint }]\n    columns: ${columns}\n    source: ${source}\n${extra}`);

    it("refuses cdcflow's own names as configured names, any case, and takes them as source names", () => {
      for (const reserved of ['operation', 'EFF_START_DATE', 'Key_Hash', 'nonkey_hash']) {
        expect(config(`[{ name: ${reserved}, type: varchar }]`).problems).toEqual([
          expect.objectContaining({ path: 'tables[0].columns[0].name', message: expect.stringContaining('read a source column of that name with source:') }),
        ]);
        expect(config(`[{ name: op, source: ${reserved}, type: varchar }]`).problems).toEqual([]);
      }
      const { file } = config('[{ name: op, source: operation, type: varchar }, { name: v, type: bigint }]');
      expect(resolveConfig(file!, '/').tables[0].columns).toEqual([
        { name: 'op', source: 'operation', type: 'varchar' },
        { name: 'v', type: 'bigint' },
      ]);
    });

    it('refuses two columns reading one source column, and takes names swapped between columns', () => {
      expect(config('[{ name: a, source: x, type: varchar }, { name: b, source: X, type: varchar }]').problems).toEqual([
        expect.objectContaining({ path: 'tables[0].columns[1].source', message: expect.stringContaining('reads source column "X", which column "a" reads already') }),
      ]);
      expect(config('[{ name: a, source: ID, type: varchar }]').problems).toEqual([
        expect.objectContaining({ path: 'tables[0].columns[0].source', message: expect.stringContaining('reads source column "ID", which column "id" reads already') }),
      ]);
      expect(config('[{ name: a, source: v, type: varchar }, { name: v, type: varchar }]').problems).toEqual([
        expect.objectContaining({ path: 'tables[0].columns[1].name', message: expect.stringContaining('reads source column "v", which column "a" reads already') }),
      ]);
      // A configured name is still unique, whatever it is read from.
      expect(config('[{ name: ID, source: y, type: varchar }]').problems).toEqual([
        expect.objectContaining({ path: 'tables[0].columns[0].name', message: 'duplicates column "id" (names are case-insensitive)' }),
      ]);
      expect(config('[{ name: a, source: b, type: varchar }, { name: b, source: a, type: varchar }]').problems).toEqual([]);
      expect(config('[{ name: a, source: "", type: varchar }]').problems).toEqual([expect.objectContaining({ path: 'tables[0].columns[0].source' })]);
    });

    it('names the watermark by its PostgreSQL name, and refuses it when the column read from it is sensitive', () => {
      const pg = (watermark: string) => `{ format: postgres, connection: U, table: a.b, watermark: { column: ${watermark} } }`;
      expect(config('[{ name: changed, source: operation, type: varchar }]', pg('operation')).problems).toEqual([]);
      expect(config('[{ name: changed, source: Updated_At, type: timestamp, sensitive: true }]', pg('updated_at')).problems).toEqual([
        expect.objectContaining({ path: 'tables[0].source.watermark.column', message: expect.stringContaining('must not be a sensitive column') }),
      ]);
    });

    it('is refused for change-record tables', () => {
      const changes = config('[{ name: op2, source: operation, type: varchar }, { name: seq, type: bigint }]', '{ format: csv, path: t.csv }', '    mode: changes\n    orderBy: [seq]\n');
      expect(changes.problems).toEqual([
        expect.objectContaining({ path: 'tables[0].columns[0].source', message: expect.stringContaining('is not supported for change-record tables') }),
      ]);
    });
  });

  describe('missingColumns', () => {
    const config = (source: string, extra = '') =>
      checkConfigText(`dataset: d\nwarehouse: wh\ntables:\n  - name: t\n    keys: [{ name: id, type: bigint }]\n    columns: [{ name: seq, type: bigint }]\n    source: ${source}\n${extra}`);
    const resolved = (source: string) => resolveConfig(config(source).file!, '/').tables[0].source;

    it('refuses by default, and takes null (YAML null or the text) for csv, parquet and json files', () => {
      expect(resolved('{ format: json, path: t.json }')).toMatchObject({ missingColumns: 'refuse' });
      for (const format of ['csv', 'parquet', 'json']) {
        expect(resolved(`{ format: ${format}, path: t, missingColumns: null }`)).toMatchObject({ missingColumns: 'null' });
        expect(resolved(`{ format: ${format}, path: t, missingColumns: "null" }`)).toMatchObject({ missingColumns: 'null' });
      }
      expect(config('{ format: json, path: t.json, missingColumns: ignore }').problems).toEqual([expect.objectContaining({ path: 'tables[0].source.missingColumns' })]);
      expect(config('{ format: postgres, connection: U, table: a.b, missingColumns: null }').problems).toEqual([
        expect.objectContaining({ path: 'tables[0].source', message: expect.stringContaining('missingColumns') }),
      ]);
    });

    it('is refused for change-record tables', () => {
      expect(config('{ format: json, path: t.json, missingColumns: null }', '    mode: changes\n    orderBy: [seq]\n').problems).toEqual([
        expect.objectContaining({ path: 'tables[0].source.missingColumns', message: expect.stringContaining('not supported for change-record tables') }),
      ]);
    });
  });

  it('ships an example that validates and a JSON Schema in step with the code', () => {
    expect(() => loadConfig(path.join(root, 'config/example.yaml'))).not.toThrow();
    const shipped = JSON.parse(readFileSync(path.join(root, 'config/cdcflow.schema.json'), 'utf8'));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it("describes a schedule's name by the Schedule ID it gives", () => {
    const schema = configJsonSchema() as { properties: { schedules: { items: { properties: { name: { description: string } } } } } };
    expect(schema.properties.schedules.items.properties.name.description).toContain(scheduleId('<dataset>', '<name>'));
  });
});

describe('business dates', () => {
  it.each(['2024-13-01', '2024-02-30', '2023-02-29', '24-01-01', '2024-1-1', "2024-01-01'"])('refuses %s', (d) => {
    expect(() => assertIsoDate(d)).toThrow(/not a valid YYYY-MM-DD date/);
  });
  it('accepts a leap day', () => expect(assertIsoDate('2024-02-29')).toBe('2024-02-29'));
});

describe('durations as the config writes them', () => {
  it('in the largest unit that divides them', () => {
    expect([43_200_000, 90_000, 60_000, 1_500, 7 * 86_400_000].map(durationText)).toEqual(['12h', '90s', '1m', '1500ms', '7d']);
  });
});

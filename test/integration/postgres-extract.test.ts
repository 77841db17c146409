/**
 * The PostgreSQL source's extract on its own (the extract activity's body, given a DuckDB
 * session): keyset chunks, the lower bound of delta runs, the watermark, types and names, exact
 * numerics and strict casts.
 */
import { copyFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { PostgresSourceSpec, TableConfig } from '../../src/config/types';
import { Engine } from '../../src/engine/duckdb';
import { engineSettings } from '../../src/settings';
import { extractFolder, postgresSource } from '../../src/sources/postgres-source';
import type { ChunkCheckpoint, ExtractRequest } from '../../src/sources/source';
import { tempDir } from '../support/harness';
import { PG_URL_VAR, psql, withOptions } from '../support/postgres';

const DATE = '2024-01-01';

function table(schema: string, name: string, source: Partial<PostgresSourceSpec>, shape: Partial<TableConfig> = {}): TableConfig<PostgresSourceSpec> {
  return {
    dataset: 'pgx',
    name: 't',
    mode: 'full',
    keys: [{ name: 'id', type: 'bigint' }],
    columns: [
      { name: 'v', type: 'varchar' },
      { name: 'updated_at', type: 'timestamp' },
    ],
    ignore: [],
    warehouse: dir,
    maxDeleteShare: 0.5,
    allowDeletes: false,
    retention: { keepDates: 2 },
    ...shape,
    source: { format: 'postgres', connection: PG_URL_VAR, table: { schema, name }, query: null, chunkRows: 3, concurrentChunks: 2, watermark: null, extract: true, ...source },
  };
}

let engine: Engine;
let dir: string;
let run = 0;

async function extract(t: TableConfig<PostgresSourceSpec>, since: string | null = null, runId = `run-${++run}`) {
  const checkpoints: ChunkCheckpoint[] = [];
  const request: ExtractRequest = { businessDate: DATE, since, runId };
  const result = await engine.withSession((s) => postgresSource.extract!(s, t, request, (c) => void checkpoints.push(c)));
  const rows = await engine.withSession((s) =>
    s.rows<Record<string, unknown>>(`SELECT COLUMNS(c -> c NOT LIKE '__cdcflow_%') FROM read_parquet('${result.folder}/*.parquet', hive_partitioning = false) ORDER BY 1`),
  );
  return { result, checkpoints, rows, files: readdirSync(result.folder).filter((f) => f.endsWith('.parquet')).sort() };
}

beforeAll(async () => {
  engine = await Engine.create({ ...engineSettings(), threads: 2 });
  dir = tempDir('cdcflow-pgx-');
  psql(`DROP SCHEMA IF EXISTS pgx CASCADE; CREATE SCHEMA pgx;
    CREATE TABLE pgx.items (id bigint PRIMARY KEY, v text, updated_at timestamp NOT NULL);
    INSERT INTO pgx.items SELECT g, 'v' || g, TIMESTAMP '2024-01-01' + g * INTERVAL '1 hour' FROM generate_series(1, 10) g;`);
});
afterAll(async () => {
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('postgres extract', () => {
  it.each([1, 2, 3])('reads the table in keyset chunks of chunkRows, %i at a time, checkpointing each in order', async (concurrentChunks) => {
    const { result, checkpoints, rows, files } = await extract(table('pgx', 'items', { concurrentChunks }));
    expect(result).toMatchObject({ chunks: 4, rows: 10, resumedChunks: 0, watermark: null });
    expect(files).toEqual(['chunk-000001.parquet', 'chunk-000002.parquet', 'chunk-000003.parquet', 'chunk-000004.parquet']);
    expect(checkpoints).toEqual([
      { chunk: 1, rows: 3, lastKey: ['3'], rowsRead: 3 },
      { chunk: 2, rows: 3, lastKey: ['6'], rowsRead: 6 },
      { chunk: 3, rows: 3, lastKey: ['9'], rowsRead: 9 },
      { chunk: 4, rows: 1, lastKey: [], rowsRead: 10 },
    ]);
    expect(rows.map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(result.folder).toBe(extractFolder(table('pgx', 'items', {}), DATE));
  });

  it('rows sharing a key stay in one chunk (the hash stage then refuses the duplicate)', async () => {
    psql(`CREATE TABLE pgx.dups (id bigint, v text, updated_at timestamp);
      INSERT INTO pgx.dups SELECT id, 'v' || n, TIMESTAMP '2024-01-01' FROM unnest(ARRAY[1, 2, 3, 3, 3, 4, 5]) WITH ORDINALITY AS u(id, n);`);
    const { result, checkpoints, rows } = await extract(table('pgx', 'dups', {}));
    expect(checkpoints).toEqual([
      { chunk: 1, rows: 5, lastKey: ['3'], rowsRead: 5 },
      { chunk: 2, rows: 2, lastKey: [], rowsRead: 7 },
    ]);
    expect(result).toMatchObject({ chunks: 2, rows: 7 });
    expect(rows.map((r) => Number(r.id))).toEqual([1, 2, 3, 3, 3, 4, 5]);
  });

  it('a resumed extract keeps its checkpointed chunks and drops chunk files past them (read beside one that failed)', async () => {
    const t = table('pgx', 'items', {});
    const request: ExtractRequest = { businessDate: DATE, since: null, runId: 'resume-strays' };
    const lost = (c: ChunkCheckpoint) => {
      if (c.chunk === 2) throw new Error('worker lost after chunk 2');
    };
    await expect(engine.withSession((s) => postgresSource.extract!(s, t, request, lost))).rejects.toThrow('worker lost after chunk 2');
    // A chunk file no checkpoint names, as a lane reading ahead leaves it.
    const folder = extractFolder(t, DATE);
    copyFileSync(path.join(folder, 'chunk-000001.parquet'), path.join(folder, 'chunk-000007.parquet'));
    const { result, checkpoints, rows, files } = await extract(t, null, request.runId);
    expect(result).toMatchObject({ chunks: 4, rows: 10, resumedChunks: 2 });
    expect(checkpoints.map((c) => c.chunk)).toEqual([3, 4]);
    expect(files).toEqual(['chunk-000001.parquet', 'chunk-000002.parquet', 'chunk-000003.parquet', 'chunk-000004.parquet']);
    expect(rows.map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('a resumed extract reads again a recorded chunk whose file is gone or holds other rows, and every chunk after it', async () => {
    const t = table('pgx', 'items', {});
    const folder = extractFolder(t, DATE);
    const stopAfter = (chunk: number, request: ExtractRequest) =>
      expect(
        engine.withSession((s) =>
          postgresSource.extract!(s, t, request, (c) => {
            if (c.chunk === chunk) throw new Error(`worker lost after chunk ${chunk}`);
          }),
        ),
      ).rejects.toThrow(`worker lost after chunk ${chunk}`);

    // The oldest chunk removed (as a vacuum of old files did): nothing recorded is kept.
    await stopAfter(3, { businessDate: DATE, since: null, runId: 'resume-missing' });
    rmSync(path.join(folder, 'chunk-000001.parquet'));
    const missing = await extract(t, null, 'resume-missing');
    expect(missing.result).toMatchObject({ chunks: 4, rows: 10, resumedChunks: 0 });
    expect(missing.checkpoints.map((c) => c.chunk)).toEqual([1, 2, 3, 4]);
    expect(missing.rows.map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // Chunk 2 replaced by a file of one row: chunk 1 is kept, 2 and 3 are read again.
    await stopAfter(3, { businessDate: DATE, since: null, runId: 'resume-short' });
    const second = path.join(folder, 'chunk-000002.parquet');
    await engine.withSession((s) => s.run(`COPY (FROM read_parquet('${second}') LIMIT 1) TO '${second}.short' (FORMAT parquet)`));
    renameSync(`${second}.short`, second);
    const short = await extract(t, null, 'resume-short');
    expect(short.result).toMatchObject({ chunks: 4, rows: 10, resumedChunks: 1 });
    expect(short.checkpoints.map((c) => c.chunk)).toEqual([2, 3, 4]);
    expect(short.rows.map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // A complete extract whose chunk is gone is read again from there too.
    rmSync(path.join(folder, 'chunk-000004.parquet'));
    const ended = await extract(t, null, 'resume-short');
    expect(ended.result).toMatchObject({ chunks: 4, rows: 10, resumedChunks: 3 });
    expect(ended.checkpoints.map((c) => c.chunk)).toEqual([4]);
  });

  it("the batch is the manifest's chunks: a stray chunk file is not read, a missing or changed one is refused", async () => {
    const t = table('pgx', 'items', {});
    const { result } = await extract(t);
    const batchRows = () =>
      engine.withSession(async (s) => {
        const { files } = await postgresSource.batch(s, t, DATE);
        const [{ n }] = await s.rows<{ n: number }>(`SELECT count(*)::INT AS n FROM read_parquet([${files.map((f) => `'${f.path}'`).join(', ')}])`);
        return { files: files.map((f) => path.basename(f.path)), n };
      });
    copyFileSync(path.join(result.folder, 'chunk-000001.parquet'), path.join(result.folder, 'chunk-000005.parquet'));
    expect(await batchRows()).toEqual({ files: ['chunk-000001.parquet', 'chunk-000002.parquet', 'chunk-000003.parquet', 'chunk-000004.parquet'], n: 10 });
    copyFileSync(path.join(result.folder, 'chunk-000004.parquet'), path.join(result.folder, 'chunk-000003.parquet'));
    await expect(batchRows()).rejects.toThrow(/chunk 3 of the extract of 2024-01-01 holds 1 rows, its manifest records 3/);
    rmSync(path.join(result.folder, 'chunk-000002.parquet'));
    await expect(batchRows()).rejects.toMatchObject({ name: 'StateError', message: expect.stringMatching(/chunk 2 of the extract of 2024-01-01 is missing/) });
  });

  it('the last key round-trips exactly: every row once, whatever the key types and collation', async () => {
    // One row per chunk: every boundary is a keyset comparison. The text key sorts by an ICU
    // collation (a < B < b), unlike byte order; floats, numerics, time zones and char(n) pad.
    psql(`CREATE TABLE pgx.typed (t text COLLATE "en-x-icu", ts timestamptz, n numeric, f float8, u uuid, c char(3), d date, v integer,
        PRIMARY KEY (t, ts, n, f, u, c, d));
      INSERT INTO pgx.typed SELECT t, ts, n, f, u, c, d, row_number() OVER ()
      FROM unnest(ARRAY['a', 'B', 'b', 'ä', 'A']) t,
           unnest(ARRAY[TIMESTAMPTZ '2024-03-31 01:30:00+01', TIMESTAMPTZ '2024-03-31 03:30:00+02']) ts,
           unnest(ARRAY[0.1, 0.10000000000000000001]) n,
           unnest(ARRAY[0.1::float8 + 0.2::float8, 0.3::float8]) f,
           unnest(ARRAY['00000000-0000-0000-0000-000000000001'::uuid]) u,
           unnest(ARRAY['x', 'x y']) c,
           unnest(ARRAY[DATE '2024-02-29']) d;`);
    const total = Number(psql('SELECT count(*) FROM pgx.typed'));
    const keyNames = ['t', 'ts', 'n', 'f', 'u', 'c', 'd'];
    const t = table('pgx', 'typed', { chunkRows: 1 }, {
      keys: keyNames.map((name) => ({ name, type: 'varchar' })),
      columns: [{ name: 'v', type: 'integer' }],
    });
    const { result, rows } = await extract(t);
    expect(total).toBe(80);
    expect(result).toMatchObject({ rows: total, chunks: total });
    expect(rows.map((r) => r.v).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('reads a numeric without precision exactly, as PostgreSQL has it (never through a double)', async () => {
    psql(`CREATE TABLE pgx.bignums ("ID" bigint PRIMARY KEY, bignum numeric, whole numeric, raw numeric, ratio numeric);
      INSERT INTO pgx.bignums VALUES
        (1, 12345678901234567890.123456789, 20.0, 12345678901234567890.123456789, 0.1),
        (3, 99999999999999999999.123456789, -3.000, 1e-20, 2.50),
        (5, 0.000000001, 9223372036854775807, 20.0, NULL),
        (7, NULL, NULL, NULL, 1e300);`);
    const t = table('pgx', 'bignums', {}, {
      keys: [{ name: 'ID', type: 'bigint' }],
      columns: [
        { name: 'bignum', type: 'decimal(38,9)' },
        { name: 'whole', type: 'bigint' },
        { name: 'raw', type: 'varchar' },
        { name: 'ratio', type: 'double' },
      ],
    });
    const { rows } = await extract(t);
    expect(rows).toEqual([
      { ID: '1', bignum: '12345678901234567890.123456789', whole: '20', raw: '12345678901234567890.123456789', ratio: 0.1 },
      { ID: '3', bignum: '99999999999999999999.123456789', whole: '-3', raw: '0.00000000000000000001', ratio: 2.5 },
      { ID: '5', bignum: '0.000000001', whole: '9223372036854775807', raw: '20.0', ratio: null },
      { ID: '7', bignum: null, whole: null, raw: null, ratio: 1e300 },
    ]);
  });

  it.each([
    ['too big', '1e32', '100000000000000000000000000000000'],
    ['too many decimals', '1e-20', '0.00000000000000000001'],
  ])('refuses a numeric without precision %s for decimal(38,9), naming the value as PostgreSQL has it', async (_, literal, text) => {
    const name = `unfit_${literal.replace(/\W/g, '_')}`;
    psql(`CREATE TABLE pgx.${name} ("ID" bigint PRIMARY KEY, bignum numeric); INSERT INTO pgx.${name} VALUES (1, 1.5), (2, ${literal}), (3, 2);`);
    const t = table('pgx', name, {}, { keys: [{ name: 'ID', type: 'bigint' }], columns: [{ name: 'bignum', type: 'decimal(38,9)' }] });
    await expect(extract(t)).rejects.toMatchObject({
      name: 'DataError',
      message: `value "${text}" in column "bignum" of the row with key (ID=2) does not convert exactly to decimal(38,9)`,
      context: { table: 't', key: '(ID=2)', column: 'bignum', value: text },
    });
  });

  describe('casts strictly, as files are cast', () => {
    beforeAll(() =>
      psql(`CREATE TABLE pgx.strict1 (id integer PRIMARY KEY, n3 numeric(10,3), f double precision, tsx timestamp, tz timestamptz, bi bigint);
        INSERT INTO pgx.strict1 VALUES (1, 5.000, 7.0, '2024-01-01 00:00:00', '2024-01-01 10:30:00+02', -9223372036854775808),
          (2, 5.004, 20.4, '2024-01-01 10:30:00', NULL, 9223372036854775807), (3, 5.1, 8, '2024-01-02', NULL, 9007199254740992);`),
    );
    const strict = (source: Partial<PostgresSourceSpec>, columns: TableConfig['columns']) =>
      table('pgx', 'strict1', source, { keys: [{ name: 'id', type: 'integer' }], columns });

    it.each([
      ['n3', 'decimal(10,2)', '5.004'],
      ['f', 'integer', '20.4'],
      ['tsx', 'date', '2024-01-01 10:30:00'],
      // A double holds it only rounded up to 2^63, beyond bigint: the old extract failed with
      // DuckDB's "Conversion Error: ... out of range for the destination type INT64" (retried).
      ['bi', 'double', '9223372036854775807'],
    ])('refuses %s into %s: %s', async (column, type, value) => {
      await expect(extract(strict({}, [{ name: column, type }]))).rejects.toMatchObject({
        name: 'DataError',
        message: `value "${value}" in column "${column}" of the row with key (id=2) does not convert exactly to ${type}`,
        context: { dataset: 'pgx', table: 't', key: '(id=2)', column, value },
      });
    });

    it('takes the values that convert exactly (trailing zeros, 7.0, midnight, -2^63 and 2^53 into a double) and a timestamptz as its UTC time', async () => {
      const columns = [
        { name: 'n3', type: 'decimal(10,2)' },
        { name: 'f', type: 'integer' },
        { name: 'tsx', type: 'date' },
        { name: 'tz', type: 'timestamp' },
        { name: 'bi', type: 'double' },
      ];
      const { rows } = await extract(strict({ table: null, query: 'SELECT * FROM pgx.strict1 WHERE id <> 2' }, columns));
      expect(rows).toEqual([
        { id: 1, n3: '5.00', f: 7, tsx: '2024-01-01', tz: '2024-01-01 08:30:00', bi: -(2 ** 63) },
        { id: 3, n3: '5.10', f: 8, tsx: '2024-01-02', tz: null, bi: 2 ** 53 },
      ]);
    });
  });

  it('reads a timestamp without time zone, and text without an offset, into a timestamptz in the column\'s timeZone; a time in the gap fails', async () => {
    psql(`CREATE TABLE pgx.clock (id integer PRIMARY KEY, local timestamp, txt text, tz timestamptz);
      INSERT INTO pgx.clock VALUES (1, '2024-01-15 10:00', '2024-07-15 10:00', '2024-01-15 10:00+00'), (2, '2024-10-27 02:30', '2024-07-15 10:00:00+05', NULL);`);
    const berlin = (column: string) => ({ name: column, type: 'timestamptz', timeZone: 'Europe/Berlin' });
    const clock = table('pgx', 'clock', {}, { keys: [{ name: 'id', type: 'integer' }], columns: ['local', 'txt', 'tz'].map(berlin) });
    const { rows } = await extract(clock);
    // An instant (PostgreSQL's timestamptz) and text with an offset keep theirs.
    expect(rows).toEqual([
      { id: 1, local: '2024-01-15 09:00:00+00', txt: '2024-07-15 08:00:00+00', tz: '2024-01-15 10:00:00+00' },
      { id: 2, local: '2024-10-27 01:30:00+00', txt: '2024-07-15 05:00:00+00', tz: null },
    ]);
    psql(`INSERT INTO pgx.clock VALUES (3, '2024-03-31 02:30', NULL, NULL)`);
    await expect(extract(clock)).rejects.toMatchObject({
      name: 'DataError',
      message: 'value "2024-03-31 02:30:00" in column "local" of the row with key (id=3) does not convert exactly to timestamptz in time zone Europe/Berlin',
    });
  });

  it.each(['Asia/Kolkata', 'Europe/Dublin'])(
    'a timestamptz key and watermark read back as the same instant where the session names %s by an abbreviation PostgreSQL reads as another zone',
    async (zone) => {
      // DateStyle SQL writes 2024-07-01 11:30 in Asia/Kolkata as "01/07/2024 11:30:00 IST", and PostgreSQL
      // reads IST as Israel's +02 (Europe/Dublin's summer IST too): 3.5 or 1 hour off.
      const variable = `CDCFLOW_TEST_PG_${zone.replace(/\W/g, '_').toUpperCase()}`;
      process.env[variable] = withOptions(`-c DateStyle=SQL,DMY -c TimeZone=${zone}`);
      const name = `instants_${zone.replace(/\W/g, '_').toLowerCase()}`;
      // The key through a domain over timestamptz, whose own text is written the same way.
      psql(`CREATE DOMAIN pgx.${name}_instant AS timestamptz; CREATE TABLE pgx.${name} (at pgx.${name}_instant PRIMARY KEY, v text, updated_at timestamptz NOT NULL);
        INSERT INTO pgx.${name} SELECT t, 'v' || g, t FROM generate_series(1, 10) g, LATERAL (SELECT TIMESTAMPTZ '2024-07-01 00:00:00+00' + g * INTERVAL '2 hours') AS x(t);`);
      const t = table('pgx', name, { connection: variable, watermark: 'updated_at' }, {
        keys: [{ name: 'at', type: 'timestamptz' }],
        columns: [
          { name: 'v', type: 'varchar' },
          { name: 'updated_at', type: 'timestamptz' },
        ],
      });
      const full = await extract(t);
      // A change 30 minutes after the watermark: the old delta read nothing (Kolkata: the change
      // was lost) or also the row at 20:00 (Dublin).
      psql(`UPDATE pgx.${name} SET v = 'changed', updated_at = TIMESTAMPTZ '2024-07-01 20:30:00+00' WHERE v = 'v1'`);
      const delta = await extract(t, full.result.watermark);
      expect(delta.rows.map((r) => r.v)).toEqual(['changed']);
      expect(new Date(full.result.watermark!).toISOString()).toBe('2024-07-01T20:00:00.000Z');
      // The old chunks' ends were read 3.5 hours later (chunks of 4, 4 and 2 rows) or 1 hour
      // earlier (of 2 rows each; with rows closer together than that, every chunk was empty and
      // the extract never ended).
      expect(full.checkpoints.map((c) => c.rows)).toEqual([3, 3, 3, 1]);
      expect(new Date(full.checkpoints[0].lastKey[0]).toISOString()).toBe('2024-07-01T06:00:00.000Z');
      delete process.env[variable];
    },
  );

  it('a float key and watermark read back exactly where the session sets extra_float_digits = 0, and a German, MDY date key as the same day', async () => {
    // At extra_float_digits = 0 PostgreSQL writes 0.30000000000000004 as 0.3; under DateStyle
    // German, MDY it writes 2024-07-01 as 01.07.2024 and reads that back as January 7.
    const variable = 'CDCFLOW_TEST_PG_ROUNDED';
    process.env[variable] = withOptions('-c extra_float_digits=0 -c DateStyle=German,MDY');
    psql(`CREATE TABLE pgx.floats (f float8, d date, v text, w float8 NOT NULL, PRIMARY KEY (f, d));
      INSERT INTO pgx.floats VALUES (0.1::float8 + 0.2::float8, DATE '2024-07-01', 'a', 0.1::float8 + 0.2::float8),
        (0.7, DATE '2024-07-02', 'b', 0.1234567890123456), (0.7, DATE '2024-07-03', 'c', 0.2);`);
    const floats = (chunkRows: number) =>
      table('pgx', 'floats', { connection: variable, chunkRows, watermark: 'w' }, {
        keys: [
          { name: 'f', type: 'double' },
          { name: 'd', type: 'date' },
        ],
        columns: [
          { name: 'v', type: 'varchar' },
          { name: 'w', type: 'double' },
        ],
      });
    // The watermark 0.30000000000000004 was stored as 0.3: the next delta read the row at it again.
    const full = await extract(floats(10));
    expect(full.result.watermark).toBe('0.30000000000000004');
    expect((await extract(floats(10), full.result.watermark)).rows).toEqual([]);
    // The old chunk ends read back below their rows (0.3; January 7): every chunk was empty and
    // the extract never ended. Stopped here after more chunks than rows.
    const chunks: ChunkCheckpoint[] = [];
    const request: ExtractRequest = { businessDate: DATE, since: null, runId: `run-${++run}` };
    await engine.withSession((s) =>
      postgresSource.extract!(s, floats(1), request, (c) => {
        if (chunks.push(c) > 4) throw new Error(`chunk ${c.chunk} of an extract of 3 rows: ${JSON.stringify(c)}`);
      }),
    );
    expect(chunks.map((c) => c.rows)).toEqual([1, 1, 1]);
    expect(chunks[0].lastKey).toEqual(['0.30000000000000004', '2024-07-01']);
    delete process.env[variable];
  });

  it('refuses text that is not UTF-8 in an SQL_ASCII database, naming the table, the column and the key', async () => {
    psql(`DROP DATABASE IF EXISTS pgx_ascii`);
    psql(`CREATE DATABASE pgx_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
    const variable = 'CDCFLOW_TEST_PG_ASCII';
    process.env[variable] = process.env[PG_URL_VAR]!.replace(/\/cdcflow($|\?)/, '/pgx_ascii$1');
    psql(`CREATE TABLE latin (id bigint PRIMARY KEY, v text, w text); INSERT INTO latin VALUES (1, 'cafe', 'x'), (2, 'tea', E'caf\\xE9'), (3, 'milk', 'y');`, process.env[variable]);
    const t = table('public', 'latin', { connection: variable, chunkRows: 10 }, { columns: [{ name: 'v', type: 'varchar' }, { name: 'w', type: 'varchar' }] });
    // Before, the message named a chunk file and the column's values of three rows run
    // together: `Invalid string encoding found in Parquet file ".../chunk-000001.parquet": value "xcaf\\xE9y" is not valid UTF8!`.
    await expect(extract(t)).rejects.toMatchObject({
      name: 'DataError',
      message: expect.stringMatching(
        /^column "w" of the row with key \(id=2\) holds text that is not UTF-8, which cdcflow reads text as; the database's encoding is SQL_ASCII, whose text PostgreSQL sends unconverted: .*convert_from\(convert\(convert_to\("w", 'SQL_ASCII'\), 'LATIN1', 'UTF8'\), 'SQL_ASCII'\)/,
      ),
      context: { dataset: 'pgx', table: 't', key: '(id=2)', column: 'w' },
    });
    delete process.env[variable];
  });

  it("reads a LATIN1 database's text converted to UTF-8, also where the connection string asks for LATIN1", async () => {
    psql(`DROP DATABASE IF EXISTS pgx_latin1`);
    psql(`CREATE DATABASE pgx_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
    const variable = 'CDCFLOW_TEST_PG_LATIN1';
    const url = process.env[PG_URL_VAR]!.replace(/\/cdcflow($|\?)/, '/pgx_latin1$1');
    // café, and Ã© (bytes C3 A9 in Latin-1, which read as UTF-8 are é), whatever psql's client encoding.
    psql(`CREATE TABLE latin (id bigint PRIMARY KEY, v text); INSERT INTO latin VALUES (1, convert_from('\\x636166e9', 'LATIN1')), (2, convert_from('\\xc3a9', 'LATIN1'));`, url);
    const t = table('public', 'latin', { connection: variable, chunkRows: 10 }, { columns: [{ name: 'v', type: 'varchar' }] });
    // Before, PostgreSQL sent the database's own bytes: café failed as not UTF-8 (add
    // client_encoding=UTF8, the message said) and, without it in the table, Ã© arrived as é (exit 0).
    for (const connection of [url, `${url}${url.includes('?') ? '&' : '?'}client_encoding=LATIN1`]) {
      process.env[variable] = connection;
      expect((await extract(t)).rows).toEqual([
        { id: '1', v: 'café' },
        { id: '2', v: 'Ã©' },
      ]);
    }
    delete process.env[variable];
  });

  it('delta: reads only rows above the lower bound and returns the watermark taken before the first chunk', async () => {
    const t = table('pgx', 'items', { watermark: 'updated_at' });
    const full = await extract(t);
    expect(full.result.watermark).toBe('2024-01-01 10:00:00');
    psql(`UPDATE pgx.items SET v = 'changed', updated_at = TIMESTAMP '2024-01-02' WHERE id IN (2, 5)`);
    const delta = await extract(t, full.result.watermark);
    expect(delta.rows).toEqual([
      { id: '2', v: 'changed', updated_at: '2024-01-02 00:00:00' },
      { id: '5', v: 'changed', updated_at: '2024-01-02 00:00:00' },
    ]);
    expect(delta.result).toMatchObject({ rows: 2, chunks: 1, watermark: '2024-01-02 00:00:00' });
    // Nothing changed since: an empty batch, and the watermark stays.
    const none = await extract(t, delta.result.watermark);
    expect(none.result).toMatchObject({ rows: 0, chunks: 1, watermark: '2024-01-02 00:00:00' });
  });

  it('refuses a watermark on a column PostgreSQL holds as text read in a format, whose greatest text is not its latest date', async () => {
    // Before, the watermark was the greatest text, 31/01/2024, and the next delta read only text above it: 01/02/2024 was missed.
    psql(`CREATE TABLE pgx.visits (id bigint PRIMARY KEY, v text, day text NOT NULL, on_day date NOT NULL);
      INSERT INTO pgx.visits VALUES (1, 'a', '31/01/2024', DATE '2024-01-31'), (2, 'b', '15/01/2024', DATE '2024-01-15');`);
    const visits = (watermark: string) =>
      table('pgx', 'visits', { watermark }, {
        columns: [
          { name: 'day', type: 'date', format: '%d/%m/%Y' },
          { name: 'on_day', type: 'date', format: '%d/%m/%Y' },
        ],
      });
    await expect(extract(visits('day'))).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('the watermark column "day" cannot be text: PostgreSQL holds it as text (read in format %d/%m/%Y) and takes the greatest text'),
    });
    // A date column PostgreSQL holds as a date is ordered as one, whatever format its text would be read in.
    expect((await extract(visits('on_day'))).result.watermark).toBe('2024-01-31');
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../../src/config/load';
import type { FileSourceSpec } from '../../src/config/types';
import { quoteLiteral } from '../../src/engine/sql';
import { ConfigError } from '../../src/errors';
import { generate, type GenerateOptions } from '../../src/generator/generate';

let root: string;
let instance: DuckDBInstance;
let db: DuckDBConnection;
let dirs = 0;

const newDir = (): string => path.join(root, `out${++dirs}`);

async function one(sql: string): Promise<Record<string, unknown>> {
  const reader = await db.runAndReadAll(sql);
  return reader.getRowObjectsJson()[0] as Record<string, unknown>;
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'cdcflow-generator-'));
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
});

afterAll(() => {
  db.closeSync();
  instance.closeSync();
  rmSync(root, { recursive: true, force: true });
});

describe('generate', () => {
  // M < N, so keys beyond M must stay unchanged too.
  const options: Omit<GenerateOptions, 'outDir'> = {
    initial: 1000,
    incremental: 600,
    keys: 2,
    nonkeys: 3,
    delete: 0.25,
    update: 0.35,
    unchanged: 0.4,
    seed: 7,
  };

  it('writes day 2 with exactly the promised deletes, inserts, updates and unchanged rows', async () => {
    const result = await generate({ ...options, outDir: newDir() });
    expect(result.expected).toEqual({ day1Rows: 1000, inserts: 150, updates: 210, unchanged: 640, deletes: 150 });

    await db.run(`CREATE OR REPLACE TABLE d1 AS SELECT * FROM read_csv(${quoteLiteral(result.files.day1)}, header = true, all_varchar = true)`);
    await db.run(`CREATE OR REPLACE TABLE d2 AS SELECT * FROM read_csv(${quoteLiteral(result.files.day2)}, header = true, all_varchar = true)`);
    const counts = await one(`
      SELECT
        (SELECT count(*) FROM d1) AS day1,
        (SELECT count(*) FROM d2) AS day2,
        (SELECT count(DISTINCT (key_1, key_2)) FROM d1) AS day1_keys,
        (SELECT count(DISTINCT (key_1, key_2)) FROM d2) AS day2_keys,
        (SELECT count(*) FROM d1 ANTI JOIN d2 USING (key_1, key_2)) AS deleted,
        (SELECT count(*) FROM d2 ANTI JOIN d1 USING (key_1, key_2)) AS inserted,
        (SELECT count(*) FILTER (a.value_1 <> b.value_1 AND a.value_2 <> b.value_2 AND a.value_3 <> b.value_3) FROM d1 a JOIN d2 b USING (key_1, key_2)) AS updated,
        (SELECT count(*) FILTER (a.value_1 = b.value_1 AND a.value_2 = b.value_2 AND a.value_3 = b.value_3) FROM d1 a JOIN d2 b USING (key_1, key_2)) AS unchanged,
        (SELECT count(*) FROM d1 a JOIN d2 b USING (key_1, key_2)) AS matched`);
    expect(counts).toEqual({
      day1: '1000',
      day2: '1000',
      day1_keys: '1000',
      day2_keys: '1000',
      deleted: '150',
      inserted: '150',
      updated: '210',
      unchanged: '640',
      // updated + unchanged: no key has only some of its values changed.
      matched: '850',
    });
  });

  it('writes lowercase UUID keys and integer values in [0, 1000000) under the expected header', async () => {
    const result = await generate({ ...options, outDir: newDir() });
    const [header, first] = readFileSync(result.files.day1, 'utf8').split('\n');
    expect(header).toBe('key_1,key_2,value_1,value_2,value_3');
    const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    expect(first).toMatch(new RegExp(`^${uuid},${uuid},\\d{1,6},\\d{1,6},\\d{1,6}$`));
  });

  it('spreads the changes over the file and shuffles day 2 differently from day 1', async () => {
    const result = await generate({ ...options, incremental: 1000, outDir: newDir() });
    const lines1 = readFileSync(result.files.day1, 'utf8').split('\n').slice(1, -1);
    const lines2 = new Set(readFileSync(result.files.day2, 'utf8').split('\n').slice(1, -1));
    // Lines of day 1 that are gone from day 2 (deleted or updated): not just a block at the top.
    const changedAt = lines1.flatMap((line, i) => (lines2.has(line) ? [] : [i]));
    expect(changedAt).toHaveLength(600);
    expect(Math.max(...changedAt)).toBeGreaterThan(900);
    expect(Math.min(...changedAt)).toBeLessThan(100);
    const day2 = readFileSync(result.files.day2, 'utf8').split('\n').slice(1, -1);
    const samePlace = lines1.filter((line, i) => day2[i] === line).length;
    expect(samePlace).toBeLessThan(20);
  });

  it('gives byte-identical files for the same seed and different data for another', async () => {
    const a = await generate({ ...options, outDir: newDir() });
    const b = await generate({ ...options, outDir: newDir() });
    const c = await generate({ ...options, seed: 8, outDir: newDir() });
    expect(readFileSync(b.files.day1)).toEqual(readFileSync(a.files.day1));
    expect(readFileSync(b.files.day2)).toEqual(readFileSync(a.files.day2));
    expect(readFileSync(c.files.day1)).not.toEqual(readFileSync(a.files.day1));
    expect(readFileSync(c.files.day2)).not.toEqual(readFileSync(a.files.day2));
  });

  it('rounds counts so that they never exceed M', async () => {
    const result = await generate({ initial: 1, delete: 0.5, update: 0.5, unchanged: 0, nonkeys: 0, outDir: newDir() });
    expect(result.expected).toEqual({ day1Rows: 1, inserts: 1, updates: 0, unchanged: 0, deletes: 1 });
    expect(readFileSync(result.files.day2, 'utf8').split('\n')[0]).toBe('key_1,key_2,key_3,key_4,key_5');
  });

  it('rejects fractions that do not add up to 1, saying what they add up to', async () => {
    const outDir = newDir();
    const attempt = generate({ ...options, delete: 0.2, update: 0.3, unchanged: 0.4, outDir });
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(/must add up to 1, but 0\.2 \+ 0\.3 \+ 0\.4 = 0\.9/);
  });

  it.each([
    [{ initial: 0 }, /--initial must be an integer >= 1, got 0/],
    [{ initial: 1.5 }, /--initial/],
    [{ incremental: 1001 }, /--incremental must be an integer in \[1, 1000\], got 1001/],
    [{ incremental: 0 }, /--incremental/],
    [{ keys: 0 }, /--keys/],
    [{ nonkeys: -1 }, /--nonkeys/],
    [{ delete: 1.2, update: -0.2, unchanged: 0 }, /--delete must be a fraction in \[0, 1\]/],
    [{ table: "x'; DROP TABLE y; --" }, /--table/],
  ] as [Partial<GenerateOptions>, RegExp][])('rejects %j', async (bad, message) => {
    await expect(generate({ ...options, ...bad, outDir: newDir() })).rejects.toThrow(message);
  });

  it('writes a dataset.yaml that loadConfig accepts', async () => {
    const outDir = newDir();
    const result = await generate({ ...options, table: 'orders', outDir });
    expect(readFileSync(result.files.config, 'utf8')).toMatch(/^# Generated by cdcflow generate \(seed 7\)\n/);
    const config = loadConfig(result.files.config, { inputDir: path.join(outDir, 'day2') });
    expect(config.dataset).toBe('generated');
    expect(config.warehouse).toBe(path.resolve(outDir, 'warehouse'));
    expect(config.tables).toHaveLength(1);
    const [table] = config.tables;
    expect(table.name).toBe('orders');
    expect(table.mode).toBe('full');
    expect(table.keys).toEqual([
      { name: 'key_1', type: 'varchar' },
      { name: 'key_2', type: 'varchar' },
    ]);
    expect(table.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['value_1:bigint', 'value_2:bigint', 'value_3:bigint']);
    expect(table.source).toMatchObject({ format: 'csv', path: path.resolve(result.files.day2) });
  });

  it('with datePlaceholder, writes one folder per business date and a {date} source path', async () => {
    const outDir = newDir();
    const result = await generate({ ...options, nonkeys: 0, datePlaceholder: true, outDir });
    expect(result.files.day1).toBe(path.join(outDir, '2024-01-01', 'records.csv'));
    expect(result.files.day2).toBe(path.join(outDir, '2024-01-02', 'records.csv'));
    const [table] = loadConfig(result.files.config).tables;
    expect(table.columns).toEqual([]);
    const source = table.source as FileSourceSpec;
    expect(source.path).toBe(path.resolve(outDir, '{date}', 'records.csv'));
    expect(source.path.split('{date}').join(result.dates[1])).toBe(path.resolve(result.files.day2));
  });
});

/**
 * Synthetic test data: a day-1 snapshot and a day-2 snapshot with a known mix of inserts,
 * updates, unchanged rows and deletes, plus a dataset config that reads them.
 *
 * Everything is generated in DuckDB SQL (rows never pass through JavaScript, so 1M rows take
 * seconds). Randomness comes from MD5 of (seed, purpose, row id): unlike random()/setseed(),
 * that gives the same bytes whatever the thread count.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { PATH_NAME } from '../config/schema';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import { ConfigError } from '../errors';
import { writeAtomically } from '../warehouse/atomic';

export interface GenerateOptions {
  /** Folder to write into; created when missing. */
  outDir: string;
  /** Rows on day 1 (and on day 2). Default 10000. */
  initial?: number;
  /** How many day-1 keys (ids 0..M-1) the day-2 changes are drawn from. Default: initial. */
  incremental?: number;
  /** Key columns key_1..key_K, UUID text. Default 5. */
  keys?: number;
  /** Non-key columns value_1..value_V, integers in [0, 1000000). Default 10. */
  nonkeys?: number;
  /** Fractions of the M keys deleted (each replaced by a new key), updated, left unchanged; they add up to 1. */
  delete?: number;
  update?: number;
  unchanged?: number;
  /** Same seed, same bytes. Default 42. */
  seed?: number;
  /** Table name, also the CSV file name. Default `records`. */
  table?: string;
  /**
   * Write DIR/2024-01-01/<table>.csv and DIR/2024-01-02/<table>.csv with source path
   * `{date}/<table>.csv`, so runs need no --input. Default: DIR/day1 and DIR/day2.
   */
  datePlaceholder?: boolean;
}

/** What a full-mode run of day 2 over day 1 must report. */
export interface ExpectedCounts {
  day1Rows: number;
  inserts: number;
  updates: number;
  /** Includes every key beyond the first M. */
  unchanged: number;
  deletes: number;
}

export interface GenerateResult {
  files: { day1: string; day2: string; config: string };
  /** Business dates the runs should use, in order. */
  dates: [string, string];
  expected: ExpectedCounts;
}

interface Settings {
  outDir: string;
  initial: number;
  incremental: number;
  keys: number;
  nonkeys: number;
  fractions: { delete: number; update: number; unchanged: number };
  seed: number;
  table: string;
  datePlaceholder: boolean;
}

export const DATES: [string, string] = ['2024-01-01', '2024-01-02'];
export const VALUE_RANGE = 1_000_000;

export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  const s = validate(options);
  const m = s.incremental;
  const deletes = Math.round(s.fractions.delete * m);
  // Rounding both fractions up could overshoot M (e.g. M=1, 0.5/0.5/0): unchanged absorbs it.
  const updates = Math.min(Math.round(s.fractions.update * m), m - deletes);
  const expected: ExpectedCounts = {
    day1Rows: s.initial,
    inserts: deletes,
    updates,
    unchanged: s.initial - deletes - updates,
    deletes,
  };

  const folders = s.datePlaceholder ? DATES : ['day1', 'day2'];
  const file = `${s.table}.csv`;
  const files = {
    day1: path.join(s.outDir, folders[0], file),
    day2: path.join(s.outDir, folders[1], file),
    config: path.join(s.outDir, 'dataset.yaml'),
  };

  // Not the shared Engine: file order here relies on preserve_insertion_order, which it turns off.
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const copy = (query: string, to: string): Promise<void> =>
      writeAtomically(to, async (tmp) => {
        await connection.run(`COPY (${query}) TO ${quoteLiteral(tmp)} (FORMAT csv, HEADER, DELIMITER ',')`);
      });
    for (const sql of idTablesSql(s, deletes, updates)) await connection.run(sql);
    await copy(day1Sql(s), files.day1);
    await copy(day2Sql(s), files.day2);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  await writeAtomically(files.config, (tmp) => writeFile(tmp, datasetYaml(s, folders, file)));
  return { files, dates: DATES, expected };
}

/** An option that must be an integer in [min, max]. */
export function checkedInt(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new ConfigError(`--${name} must be an integer ${range}, got ${value}`, { option: name, value: String(value) });
  }
  return value;
}

/** An option that must be a fraction in [0, 1]. */
export function checkedFraction(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigError(`--${name} must be a fraction in [0, 1], got ${value}`, { option: name, value: String(value) });
  }
  return value;
}

/** Fractions that must add up to 1, each defaulted and checked; keyed by option name. */
export function checkedShares<K extends string>(given: Record<K, number | undefined>, defaults: Record<K, number>): Record<K, number> {
  const names = Object.keys(defaults) as K[];
  const shares = Object.fromEntries(names.map((n) => [n, checkedFraction(n, given[n] ?? defaults[n])])) as Record<K, number>;
  const sum = names.reduce((acc, n) => acc + shares[n], 0);
  if (Math.abs(sum - 1) > 1e-9) {
    const options = names.map((n) => `--${n}`);
    throw new ConfigError(
      `${options.slice(0, -1).join(', ')} and ${options.at(-1)} must add up to 1, but ${names.map((n) => shares[n]).join(' + ')} = ${+sum.toPrecision(12)}`,
      { option: names.join('/'), value: String(sum) },
    );
  }
  return shares;
}

/** A table name for the generated config and file. */
export function checkedTable(table: string): string {
  if (!PATH_NAME.test(table)) {
    throw new ConfigError(`--table must start with a letter and hold only letters, digits, _ and - (at most 63), got "${table}"`, { table });
  }
  return table;
}

function validate(o: GenerateOptions): Settings {
  const initial = checkedInt('initial', o.initial ?? 10_000, 1);
  const fractions = checkedShares({ delete: o.delete, update: o.update, unchanged: o.unchanged }, { delete: 0.2, update: 0.4, unchanged: 0.4 });
  const table = checkedTable(o.table ?? 'records');
  return {
    outDir: o.outDir,
    initial,
    incremental: checkedInt('incremental', o.incremental ?? initial, 1, initial),
    keys: checkedInt('keys', o.keys ?? 5, 1),
    nonkeys: checkedInt('nonkeys', o.nonkeys ?? 10, 0),
    fractions,
    seed: checkedInt('seed', o.seed ?? 42, 0),
    table,
    datePlaceholder: o.datePlaceholder ?? false,
  };
}

/**
 * A 64-bit pseudo-random number for row `i`, fixed by seed and purpose (`tag`). The high half
 * of md5_number: arithmetic on its 128-bit type is ~50x slower than on UBIGINT.
 */
export function rand(seed: number, tag: string): string {
  return `(md5_number(concat(${quoteLiteral(`${seed}:${tag}:`)}, i)) >> 64)::UBIGINT`;
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, j) => j + 1);
export const keyName = (j: number): string => `key_${j}`;
export const valueName = (j: number): string => `value_${j}`;
/** MD5 formatted as a UUID: 128 random bits, lowercase text. */
export const uuid = (seed: number, tag: string): string => `md5(concat(${quoteLiteral(`${seed}:${tag}:`)}, i))::UUID::VARCHAR`;

/**
 * MD5 dominates the cost, so each 64-bit word `<prefix>k` feeds two non-key columns with 32
 * bits each (the mod-1000000 bias on 32 bits is 0.02%). The words are computed once per row
 * in an inner projection; this is the 32-bit half for column j.
 */
export const words = (nonkeys: number): number[] => range(Math.ceil(nonkeys / 2));
export const half = (prefix: string, j: number): string =>
  j % 2 === 1 ? `(${prefix}${(j + 1) / 2} >> 32)` : `(${prefix}${j / 2} & 4294967295)`;
const day1Value = (j: number): string => `(${half('w', j)} % ${VALUE_RANGE})::BIGINT`;

/**
 * Row ids in file order, as two narrow tables: sorting ids is far cheaper than sorting the
 * wide rows, and DuckDB keeps a table's insertion order through SELECT and COPY.
 * Day 2 keeps ids 0..N-1. Among ids 0..M-1, ranked by a seeded hash, the first D are deleted
 * (the id gets a brand-new key and values, i.e. an insert) and the next U get every value
 * changed; all other ids keep their day-1 row. So day 2 has exactly N rows.
 */
function idTablesSql(s: Settings, deletes: number, updates: number): string[] {
  return [
    `CREATE TABLE day1_ids AS SELECT i FROM range(${s.initial}) t(i) ORDER BY ${rand(s.seed, 'order1')}, i`,
    `CREATE TABLE day2_ids AS ` +
      `WITH picked AS (SELECT i, row_number() OVER (ORDER BY ${rand(s.seed, 'pick')}, i) - 1 AS rank FROM range(${s.incremental}) t(i)) ` +
      `SELECT i, CASE WHEN rank < ${deletes} THEN 'D' WHEN rank < ${deletes + updates} THEN 'U' ELSE 'N' END AS role ` +
      `FROM range(${s.initial}) t(i) LEFT JOIN picked USING (i) ORDER BY ${rand(s.seed, 'order2')}, i`,
  ];
}

function day1Sql(s: Settings): string {
  const inner = ['i', ...words(s.nonkeys).map((k) => `${rand(s.seed, `values${k}`)} AS w${k}`)];
  const cols = [
    ...range(s.keys).map((j) => `${uuid(s.seed, `key${j}`)} AS ${quoteIdent(keyName(j))}`),
    ...range(s.nonkeys).map((j) => `${day1Value(j)} AS ${quoteIdent(valueName(j))}`),
  ];
  return `SELECT ${cols.join(', ')} FROM (SELECT ${inner.join(', ')} FROM day1_ids)`;
}

/** Fresh words `f` are new values for a deleted id's replacement, or the change of an updated one. */
function day2Sql(s: Settings): string {
  const inner = [
    'i',
    'role',
    ...words(s.nonkeys).map((k) => `${rand(s.seed, `values${k}`)} AS w${k}`),
    ...words(s.nonkeys).map((k) => `CASE WHEN role <> 'N' THEN ${rand(s.seed, `fresh${k}`)} END AS f${k}`),
  ];
  const cols = [
    ...range(s.keys).map(
      (j) => `CASE WHEN role = 'D' THEN ${uuid(s.seed, `newkey${j}`)} ELSE ${uuid(s.seed, `key${j}`)} END AS ${quoteIdent(keyName(j))}`,
    ),
    // old + 1 + (r mod 999999), mod 1000000, is never old again: every value really changes.
    ...range(s.nonkeys).map(
      (j) =>
        `CASE role WHEN 'D' THEN (${half('f', j)} % ${VALUE_RANGE})::BIGINT` +
        ` WHEN 'U' THEN (${day1Value(j)} + 1 + (${half('f', j)} % ${VALUE_RANGE - 1})::BIGINT) % ${VALUE_RANGE}` +
        ` ELSE ${day1Value(j)} END AS ${quoteIdent(valueName(j))}`,
    ),
  ];
  return `SELECT ${cols.join(', ')} FROM (SELECT ${inner.join(', ')} FROM day2_ids)`;
}

function datasetYaml(s: Settings, folders: readonly string[], file: string): string {
  const dir = s.outDir.replace(/[\r\n]/g, '');
  const run = (n: 0 | 1): string =>
    `#   cdcflow run --config ${path.join(dir, 'dataset.yaml')} --date ${DATES[n]}` +
    (s.datePlaceholder ? '' : ` --input ${path.join(dir, folders[n])}`);
  const f = s.fractions;
  return [
    `# Generated by cdcflow generate (seed ${s.seed})`,
    `# ${s.initial} rows; day 2 deletes/updates/keeps ${f.delete}/${f.update}/${f.unchanged} of the first ${s.incremental} keys.`,
    '# Run day 1, then day 2:',
    run(0),
    run(1),
    'dataset: generated',
    'warehouse: warehouse          # relative to this file',
    'mode: full',
    'tables:',
    // Quoted: a plain `null` or `true` would not stay text.
    `  - name: ${JSON.stringify(s.table)}`,
    '    keys:',
    ...range(s.keys).map((j) => `      - { name: ${keyName(j)}, type: varchar }`),
    ...(s.nonkeys === 0 ? ['    columns: []'] : ['    columns:', ...range(s.nonkeys).map((j) => `      - { name: ${valueName(j)}, type: bigint }`)]),
    '    source:',
    '      format: csv',
    s.datePlaceholder
      ? `      path: ${JSON.stringify(`{date}/${file}`)}   # relative to this file's folder`
      : `      path: ${JSON.stringify(file)}        # relative to --input (DIR/day1 or DIR/day2)`,
    '',
  ].join('\n');
}

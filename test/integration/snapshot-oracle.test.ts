/**
 * Oracle test of full-snapshot and delta tables. A seeded generator writes a CSV batch per table
 * and business date (deletes, re-inserts of deleted keys, updates of compared columns and of the
 * ignored column only, unchanged rows written another way, and in delta mode keys left out);
 * each date runs through the real workflow. A reference model in plain TypeScript, written from
 * the README's rules ("What a run does", "Outputs", "Which dates can be run again") and sharing
 * no code with cdcflow, gives every date's counts, current state and history, which must equal
 * current.parquet, the history partitions and the catalog's `__current` and `__history` after
 * every date, `KEY_HASH` and `NONKEY_HASH` included (the model computes them by the README's
 * encoding), with every published file sorted by `KEY_HASH`.
 *
 * Values are written in the ways the README lets a source write them (leading and trailing
 * zeros, a sign, exponents, a T in timestamps, quotes where needed or not), files with their
 * columns in any order and case; one table's batch is a folder of part files, one table's run is
 * split into key-hash buckets; on one date a delta table's file holds no rows (every key X).
 * Midway the latest date runs again, first with the same bytes rewritten (nothing new committed,
 * outputs byte-identical), then with another batch (the date's commit and history partition
 * replaced); later dates build on the replacement.
 *
 * CDCFLOW_ORACLE_SEED (a number, or several with commas) runs other seeds than the default ones.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DatasetConfig } from '../../src/config/types';
import { lakeTables, withCatalog } from '../../src/warehouse/catalog';
import { committedDates, datasetFolders, type Harness, runDataset, startHarness, tableResult } from '../support/harness';
import { seededRandom } from '../support/seeded-random';

const SEEDS = process.env.CDCFLOW_ORACLE_SEED ? process.env.CDCFLOW_ORACLE_SEED.split(',').map(Number) : [7, 1001, 424242];
const DATES = Array.from({ length: 8 }, (_, i) => `2024-03-${String(i + 1).padStart(2, '0')}`);
/** The date (index) that runs again, with the same file and then with another. */
const RERUN_AT = 4;
/** The date (index) on which delta tables receive a header-only file: nothing sent, every key X. */
const EMPTY_DELTA_AT = 6;

// ---------------------------------------------------------------------------------------------
// Table shapes

type ColumnType = 'integer' | 'bigint' | 'decimal(12,2)' | 'double' | 'date' | 'timestamp' | 'boolean' | 'varchar';
interface Column {
  name: string;
  type: ColumnType;
}
interface Shape {
  name: string;
  mode: 'full' | 'delta';
  keys: Column[];
  columns: Column[];
  /** The one ignored column (one of `columns`). */
  ignore: string;
  /** Each date's batch is a folder of part files. */
  parts?: boolean;
  /** Key-hash buckets (config `buckets`): the diff runs per bucket, the exports join the buckets' files. */
  buckets?: number;
}

const WIDE_COLUMNS: Column[] = [
  { name: 'amount', type: 'decimal(12,2)' },
  { name: 'ratio', type: 'double' },
  { name: 'day', type: 'date' },
  { name: 'at', type: 'timestamp' },
  { name: 'flag', type: 'boolean' },
  { name: 'note', type: 'varchar' },
  { name: 'loaded_at', type: 'timestamp' },
];
const SHAPES: Shape[] = [
  { name: 'orders', mode: 'full', keys: [{ name: 'id', type: 'integer' }, { name: 'code', type: 'varchar' }], columns: WIDE_COLUMNS, ignore: 'loaded_at' },
  { name: 'ledger', mode: 'delta', keys: [{ name: 'id', type: 'integer' }, { name: 'code', type: 'varchar' }], columns: WIDE_COLUMNS, ignore: 'loaded_at', buckets: 3 },
  {
    name: 'tags',
    mode: 'full',
    keys: [{ name: 'code', type: 'varchar' }, { name: 'n', type: 'bigint' }],
    columns: [
      { name: 'label', type: 'varchar' },
      { name: 'batch_no', type: 'integer' },
      { name: 'weight', type: 'double' },
    ],
    ignore: 'batch_no',
    parts: true,
  },
];

// ---------------------------------------------------------------------------------------------
// Values: each column's value in one canonical form per type (NULL is null)

/** integer, bigint: digits; decimal: at its scale ("12.50"); date: YYYY-MM-DD; timestamp: with six fractional digits. */
type Value = string | number | boolean | null;
type Row = { key: Value[]; values: Value[] };

class Dice {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

/** Texts that CSV and hashing must keep apart: empty, NULL-like, unicode, commas and quotes. */
const TEXTS = ['plain', '', 'NULL', 'Zürich', '日本語', '🙂 ok', 'a,b', 'say "hi"', '"', ',', 'x', 'x '];
const KEY_CODES = ['a', 'b', '', 'é', 'a,b', 'q"t', 'NULL', '🙂'];
const DOUBLES = [0, -0, 1.5, 0.1, 1e20, 123.456, -2.5e-7, 3];

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function randomValue(type: ColumnType, dice: Dice): Value {
  if (dice.chance(0.1)) return null;
  switch (type) {
    case 'integer':
      return String(dice.int(2001) - 1000);
    case 'bigint':
      return (9007199254740000n + BigInt(dice.int(2000))).toString();
    case 'decimal(12,2)': {
      const cents = dice.int(200001) - 100000;
      return `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${pad(Math.abs(cents) % 100)}`;
    }
    case 'double':
      return dice.chance(0.6) ? dice.pick(DOUBLES) : dice.next() * 1000;
    case 'date':
      return `${2020 + dice.int(6)}-${pad(1 + dice.int(12))}-${pad(1 + dice.int(28))}`;
    case 'timestamp': {
      const micros = dice.pick([0, 500000, 123456, dice.int(1000000)]);
      return `2024-${pad(1 + dice.int(12))}-${pad(1 + dice.int(28))} ${pad(dice.int(24))}:${pad(dice.int(60))}:${pad(dice.int(60))}.${pad(micros, 6)}`;
    }
    case 'boolean':
      return dice.chance(0.5);
    case 'varchar':
      return dice.chance(0.7) ? dice.pick(TEXTS) : `v${dice.int(50)}`;
  }
}

/** A CSV text of a value: one of the ways a source may write it (leading and trailing zeros, a sign, exponents, a T). */
function render(type: ColumnType, v: Value, dice: Dice): string {
  if (v === null) return '';
  if (type === 'integer' || type === 'bigint') {
    const text = v as string;
    return dice.pick([text, text.replace(/^(-?)/, '$100'), text.startsWith('-') ? text : `+${text}`]);
  }
  if (type === 'decimal(12,2)') {
    const text = v as string;
    return dice.pick([text, text.replace(/\.?0+$/, ''), `${text}0`]);
  }
  if (type === 'double') {
    const n = v as number;
    if (Object.is(n, -0)) return dice.pick(['-0', '-0.0']);
    return dice.pick([String(n), n.toExponential(), Number.isInteger(n) ? `${n}.0` : String(n)]);
  }
  if (type === 'timestamp') {
    const text = v as string;
    return dice.pick([text, text.replace(/\.?0+$/, ''), text.replace(' ', 'T')]);
  }
  return String(v);
}

function csvCell(type: ColumnType, v: Value, dice: Dice): string {
  const text = render(type, v, dice);
  // An unquoted empty field is NULL (nullString ""); a quoted one is the empty string.
  const quoted = (v !== null && text === '') || /[",\n]/.test(text) || (v !== null && dice.chance(0.2));
  return quoted ? `"${text.replace(/"/g, '""')}"` : text;
}

// ---------------------------------------------------------------------------------------------
// The source: what it holds each day, and the day file it writes

/** The rows the source system holds (full: the whole table; delta: what has ever been sent). */
type Truth = Map<string, Row>;
const keyText = (key: readonly Value[]) => JSON.stringify(key);

/** A key the source does not hold: few values per key column, so that keys share parts; bigints past 2^53. */
function newKey(shape: Shape, dice: Dice, taken: Truth): Value[] {
  const part = (type: ColumnType) => (type === 'varchar' ? dice.pick(KEY_CODES) : type === 'bigint' ? String(9007199254740980n + BigInt(dice.int(60))) : String(1 + dice.int(60)));
  for (;;) {
    const key = shape.keys.map((k) => part(k.type));
    if (!taken.has(keyText(key))) return key;
  }
}

function newValues(shape: Shape, dice: Dice): Value[] {
  return shape.columns.map((c) => randomValue(c.type, dice));
}

/** A row whose listed columns take new values (different from the old ones by the model's comparison). */
function changed(shape: Shape, row: Row, columns: number[], dice: Dice): Row {
  const values = [...row.values];
  for (const i of columns) {
    do values[i] = randomValue(shape.columns[i].type, dice);
    while (sameValue(shape.columns[i].type, values[i], row.values[i]));
  }
  return { key: row.key, values };
}

/** The same row as the source may send it again: a double zero may come with the other sign. */
function resent(shape: Shape, row: Row, dice: Dice): Row {
  const values = row.values.map((v, i) => (shape.columns[i].type === 'double' && v === 0 && dice.chance(0.5) ? (Object.is(v, -0) ? 0 : -0) : v));
  return { key: row.key, values };
}

/**
 * The next day of the source from `before`: the rows it holds and the rows its file carries. A
 * full table's file is every row; some rows are deleted, some deleted keys come back. A delta's
 * file carries changed rows and some unchanged ones; it never deletes.
 */
function nextDay(shape: Shape, before: Truth, gone: Truth, dice: Dice): { truth: Truth; gone: Truth; file: Row[] } {
  const truth: Truth = new Map();
  const nextGone: Truth = new Map(gone);
  const file: Row[] = [];
  const compared = shape.columns.map((c, i) => (c.name === shape.ignore ? -1 : i)).filter((i) => i >= 0);
  const ignored = shape.columns.findIndex((c) => c.name === shape.ignore);
  const keep = (row: Row, sent: boolean) => {
    truth.set(keyText(row.key), row);
    if (sent) file.push(row);
  };
  for (const [k, row] of before) {
    const roll = dice.next();
    if (shape.mode === 'full' && roll < 0.12) {
      nextGone.set(k, row);
    } else if (roll < 0.3) {
      const picked = dice.shuffle([...compared]).slice(0, 1 + dice.int(2));
      keep(changed(shape, row, picked, dice), true);
    } else if (roll < 0.42) {
      keep(changed(shape, row, [ignored], dice), true);
    } else {
      // Unchanged: a delta sends some of these (N) and leaves the others out (X).
      const sent = shape.mode === 'full' || dice.chance(0.4);
      keep(sent ? resent(shape, row, dice) : row, sent);
    }
  }
  for (const [k, row] of gone) {
    if (!dice.chance(0.3)) continue;
    nextGone.delete(k);
    keep(dice.chance(0.5) ? row : { key: row.key, values: newValues(shape, dice) }, true);
  }
  const fresh = before.size === 0 ? 20 + dice.int(150) : dice.int(12);
  for (let i = 0; i < fresh; i++) {
    const key = newKey(shape, dice, new Map([...truth, ...nextGone]));
    keep({ key, values: newValues(shape, dice) }, true);
  }
  return { truth, gone: nextGone, file: dice.shuffle(file) };
}

/** One CSV file of a batch: columns in any order, names in any case, sometimes a UTF-8 byte-order mark. */
function writeCsvFile(file: string, shape: Shape, rows: readonly Row[], dice: Dice): void {
  const columns = dice.shuffle([...shape.keys.map((c, i) => ({ c, at: (r: Row) => r.key[i] })), ...shape.columns.map((c, i) => ({ c, at: (r: Row) => r.values[i] }))]);
  const header = columns.map(({ c }) => (dice.chance(0.3) ? c.name.toUpperCase() : c.name)).join(',');
  const line = (r: Row) => columns.map(({ c, at }) => csvCell(c.type, at(r), dice)).join(',');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${dice.chance(0.2) ? '\uFEFF' : ''}${[header, ...rows.map(line)].join('\n')}\n`);
}

/** The source path of a table: one file a date, or a date's folder of part files. */
function sourcePath(shape: Shape): string {
  return shape.parts ? `${shape.name}/{date}/part-*.csv` : `${shape.name}/{date}.csv`;
}

/** A date's batch as the source writes it: one file, or the rows spread over one to three part files. */
function writeBatch(dir: string, shape: Shape, date: string, rows: readonly Row[], dice: Dice): void {
  if (!shape.parts) return writeCsvFile(path.join(dir, shape.name, `${date}.csv`), shape, rows, dice);
  const folder = path.join(dir, shape.name, date);
  rmSync(folder, { recursive: true, force: true });
  const parts = 1 + dice.int(3);
  for (let p = 0; p < parts; p++) writeCsvFile(path.join(folder, `part-${p}.csv`), shape, rows.filter((_, i) => i % parts === p), dice);
}

/** The date's files written again with the same bytes (a new modification time): still the same batch. */
function rewriteBatch(dir: string, shape: Shape, date: string): void {
  const folder = path.join(dir, shape.name, date);
  const files = shape.parts ? readdirSync(folder).map((f) => path.join(folder, f)) : [`${folder}.csv`];
  for (const f of files) writeFileSync(f, readFileSync(f));
}

// ---------------------------------------------------------------------------------------------
// The model: the README's rules, in plain TypeScript

type Op = 'I' | 'U' | 'D' | 'X' | 'N';
interface ModelRow extends Row {
  op: Op;
  /** EFF_START_DATE */
  date: string;
}
type State = Map<string, ModelRow>;
interface Commit {
  date: string;
  state: State;
  /** The date's history partition: its I, U and D rows. */
  history: ModelRow[];
  counts: Record<Op, number>;
}

/** Compared values are equal as typed values; a double's -0 is hashed as 0. */
function sameValue(type: ColumnType, a: Value, b: Value): boolean {
  return type === 'double' && typeof a === 'number' && typeof b === 'number' ? a === b : Object.is(a, b);
}

/**
 * One date's run on the base state: a key only in the batch is I; one in both is U if a compared
 * value differs, else N (keeping its date and compared values, taking the batch's ignored ones);
 * a key only in the base is D in a full table (it leaves current; its history row carries its
 * last values) and X in a delta (kept as it was, not in history).
 */
function runDate(shape: Shape, base: State, batch: readonly Row[], date: string): Commit {
  const state: State = new Map();
  const history: ModelRow[] = [];
  const counts: Record<Op, number> = { I: 0, U: 0, D: 0, X: 0, N: 0 };
  const isIgnored = (i: number) => shape.columns[i].name === shape.ignore;
  const mark = (row: ModelRow) => {
    counts[row.op]++;
    if (row.op !== 'D') state.set(keyText(row.key), row);
    if (row.op === 'I' || row.op === 'U' || row.op === 'D') history.push(row);
  };
  for (const row of batch) {
    const held = base.get(keyText(row.key));
    if (!held) mark({ ...row, op: 'I', date });
    else if (row.values.every((v, i) => isIgnored(i) || sameValue(shape.columns[i].type, v, held.values[i]))) {
      mark({ key: row.key, values: row.values.map((v, i) => (isIgnored(i) ? v : held.values[i])), op: 'N', date: held.date });
    } else mark({ ...row, op: 'U', date });
  }
  const inBatch = new Set(batch.map((r) => keyText(r.key)));
  for (const [k, held] of base) {
    if (inBatch.has(k)) continue;
    mark(shape.mode === 'full' ? { ...held, op: 'D', date } : { ...held, op: 'X' });
  }
  return { date, state, history, counts };
}

/**
 * The cases of the README's rules a date exercises beyond plain I/U/D/X/N, so that a seed that
 * stops producing one is noticed.
 */
function casesOf(shape: Shape, commits: readonly Commit[], batch: readonly Row[]): string[] {
  const base = commits.at(-1)?.state ?? new Map<string, ModelRow>();
  const deleted = new Set(commits.flatMap((c) => c.history.filter((r) => r.op === 'D').map((r) => keyText(r.key))));
  const cases = new Set<string>();
  for (const row of batch) {
    const held = base.get(keyText(row.key));
    if (!held) {
      if (deleted.has(keyText(row.key))) cases.add('deleted key inserted again');
      continue;
    }
    if (held.op === 'X') cases.add('X row sent again');
    const differs = (i: number) => !Object.is(row.values[i], held.values[i]);
    const comparedEqual = row.values.every((v, i) => shape.columns[i].name === shape.ignore || sameValue(shape.columns[i].type, v, held.values[i]));
    if (!comparedEqual) continue;
    if (shape.columns.some((c, i) => c.name === shape.ignore && differs(i))) cases.add('change in the ignored column only');
    if (shape.columns.some((c, i) => c.type === 'double' && differs(i))) cases.add('a double zero sent with the other sign');
  }
  return [...cases];
}

/** C's printf('%.17g'): 17 significant digits, exponent form below 1e-4 and from 1e17, no trailing zeros. */
function printf17g(v: number): string {
  const [mantissa, exponent] = v.toExponential(16).split('e');
  const exp = Number(exponent);
  const trim = (digits: string) => (digits.includes('.') ? digits.replace(/0+$/, '').replace(/\.$/, '') : digits);
  if (exp < -4 || exp >= 17) return `${trim(mantissa)}e${exp < 0 ? '-' : '+'}${pad(Math.abs(exp))}`;
  return trim(v.toFixed(16 - exp));
}

/** A value's text in the hash encoding: the canonical forms above, a double as %.17g with -0 as 0. */
function hashText(type: ColumnType, v: Exclude<Value, null>): string {
  if (type === 'double') return v === 0 ? '0' : printf17g(v as number);
  return String(v);
}

/** KEY_HASH and NONKEY_HASH: MD5 of each value as N (NULL) or V<byte length>:<text>, as a UUID. */
function hashOf(columns: readonly Column[], values: readonly Value[]): string {
  const encoding = values.map((v, i) => (v === null ? 'N' : `V${Buffer.byteLength(hashText(columns[i].type, v))}:${hashText(columns[i].type, v)}`)).join('');
  const hex = createHash('md5').update(encoding, 'utf8').digest('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
}

/** The row's two hashes; ignored columns are not part of NONKEY_HASH. */
function hashesOf(shape: Shape, row: Row): [string, string] {
  const compared = shape.columns.flatMap((c, i) => (c.name === shape.ignore ? [] : [i]));
  return [hashOf(shape.keys, row.key), hashOf(compared.map((i) => shape.columns[i]), compared.map((i) => row.values[i]))];
}

// ---------------------------------------------------------------------------------------------
// Reading cdcflow's outputs in the model's form

/** SQL giving a column in a form independent of DuckDB's display: timestamps with six digits. */
function canonicalSql(c: Column): string {
  const id = `"${c.name}"`;
  if (c.type === 'double') return `${id} AS ${id}`;
  if (c.type === 'timestamp') return `strftime(${id}, '%Y-%m-%d %H:%M:%S.%f') AS ${id}`;
  return `CAST(${id} AS VARCHAR) AS ${id}`;
}

/** A row as comparable text: key, values (doubles keeping the sign of zero), OPERATION, EFF_START_DATE, the hashes. */
function rowText(key: readonly Value[], values: readonly Value[], op: string, date: string, hashes: readonly string[]): string {
  const cell = (v: Value) => (v === null ? 'NULL' : typeof v === 'number' && Object.is(v, -0) ? '-0' : JSON.stringify(String(v)));
  return [...key.map(cell), ...values.map(cell), op, date, ...hashes].join(' | ');
}

function modelTexts(shape: Shape, rows: Iterable<ModelRow>): string[] {
  return [...rows].map((r) => rowText(r.key, r.values, r.op, r.date, hashesOf(shape, r))).sort();
}

function selectSql(shape: Shape, from: string, dateColumn: string): string {
  const columns = [...shape.keys, ...shape.columns].map(canonicalSql).join(', ');
  return `SELECT ${columns}, OPERATION, CAST(${dateColumn} AS VARCHAR) AS d, CAST(KEY_HASH AS VARCHAR) AS kh, CAST(NONKEY_HASH AS VARCHAR) AS nh FROM ${from}`;
}

/** Rows read by selectSql as rowText, sorted. */
function outputTexts(shape: Shape, rows: Record<string, unknown>[]): string[] {
  const value = (c: Column, v: unknown): Value => (v === null ? null : c.type === 'double' ? (v as number) : String(v as string | number | boolean));
  return rows
    .map((r) => rowText(shape.keys.map((c) => value(c, r[c.name])), shape.columns.map((c) => value(c, r[c.name])), String(r.OPERATION), String(r.d), [String(r.kh), String(r.nh)]))
    .sort();
}

const sqlPath = (p: string) => `'${p.replace(/'/g, "''")}'`;

async function publishedTexts(h: Harness, config: DatasetConfig, shape: Shape): Promise<{ current: string[]; history: string[] }> {
  const root = path.join(config.warehouse, config.dataset, shape.name);
  return h.engine.withSession(async (s) => {
    const current = outputTexts(shape, await s.rows(selectSql(shape, `read_parquet(${sqlPath(path.join(root, 'current.parquet'))})`, 'EFF_START_DATE')));
    const glob = `read_parquet(${sqlPath(path.join(root, 'history', '*', '*.parquet'))}, hive_partitioning = true)`;
    const history = existsSync(path.join(root, 'history')) ? outputTexts(shape, await s.rows(selectSql(shape, glob, 'eff_start_date'))) : [];
    return { current, history };
  });
}

async function catalogTexts(h: Harness, config: DatasetConfig, shape: Shape): Promise<{ current: string[]; history: string[] }> {
  return withCatalog(h.engine, config.warehouse, async (s, alias) => {
    const lake = lakeTables(alias, config.dataset, shape.name);
    return {
      current: outputTexts(shape, await s.rows(selectSql(shape, lake.current, 'EFF_START_DATE'))),
      history: outputTexts(shape, await s.rows(selectSql(shape, lake.history, 'EFF_START_DATE'))),
    };
  });
}

/** The published files of a table: current.parquet and the history partitions, relative to its folder. */
function publishedFiles(config: DatasetConfig, shape: Shape): { root: string; files: string[] } {
  const root = path.join(config.warehouse, config.dataset, shape.name);
  return { root, files: ['current.parquet', ...readdirSync(path.join(root, 'history')).map((d) => path.join('history', d, 'data.parquet'))] };
}

function publishedBytes(config: DatasetConfig, shape: Shape): Map<string, Buffer> {
  const { root, files } = publishedFiles(config, shape);
  return new Map(files.map((f) => [f, readFileSync(path.join(root, f))]));
}

/** The published files whose rows are not sorted by KEY_HASH (the README's Guarantees: none). */
async function unsortedFiles(h: Harness, config: DatasetConfig, shape: Shape): Promise<string[]> {
  const { root, files } = publishedFiles(config, shape);
  return h.engine.withSession(async (s) => {
    const unsorted: string[] = [];
    for (const f of files) {
      // In the file's order: the engine does not preserve insertion order when it reads.
      const sql = `SELECT CAST(KEY_HASH AS VARCHAR) AS kh FROM read_parquet(${sqlPath(path.join(root, f))}, file_row_number = true) ORDER BY file_row_number`;
      const hashes = (await s.rows<{ kh: string }>(sql)).map((r) => r.kh);
      if (hashes.some((kh, i) => i > 0 && hashes[i - 1] > kh)) unsorted.push(f);
    }
    return unsorted;
  });
}

async function latestSnapshot(h: Harness, config: DatasetConfig): Promise<number> {
  return withCatalog(h.engine, config.warehouse, async (s, alias) => {
    const [row] = await s.rows<{ id: number }>(`SELECT max(snapshot_id)::INT AS id FROM ducklake_snapshots(${sqlPath(alias)})`);
    return row.id;
  });
}

// ---------------------------------------------------------------------------------------------

describe('full and delta tables: oracle comparison over many dates', () => {
  let h: Harness;
  const folders = datasetFolders('oracle');

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
    folders.removeAll();
  });

  /** One table as the test tracks it: the source's days and the model's commits. */
  interface Tracked {
    shape: Shape;
    truth: Truth;
    gone: Truth;
    commits: Commit[];
    cases: Set<string>;
  }

  it.each(SEEDS)('seed %i: every date matches the model (counts, current, history, catalog); the latest date runs again', async (seed) => {
    const dice = new Dice(seededRandom(seed));
    const { dir, config } = folders.setup(
      SHAPES.map((s) => ({
        name: s.name,
        mode: s.mode,
        keys: s.keys,
        columns: s.columns,
        ignore: [s.ignore],
        source: { format: 'csv', path: sourcePath(s) },
        ...(s.buckets ? { buckets: s.buckets } : {}),
      })),
    );
    const tracked: Tracked[] = SHAPES.map((shape) => ({ shape, truth: new Map(), gone: new Map(), commits: [], cases: new Set() }));
    const where = (t: Tracked, date: string, what: string) => `seed ${seed}, table ${t.shape.name}, date ${date}: ${what}`;

    /** The sources as they were before each date, so that the latest date can be written anew. */
    const sources = new Map<Tracked, { truth: Truth; gone: Truth }[]>(tracked.map((t) => [t, []]));
    /** Writes the date's files from the sources (as they were before it when replacing it); the model commits them on its base. */
    const advance = (date: string, replacing: boolean) => {
      const emptyDelta = date === DATES[EMPTY_DELTA_AT];
      for (const t of tracked) {
        if (replacing) {
          t.commits.pop();
          Object.assign(t, sources.get(t)!.pop()!);
        }
        sources.get(t)!.push({ truth: t.truth, gone: t.gone });
        const day = emptyDelta && t.shape.mode === 'delta' ? { truth: t.truth, gone: t.gone, file: [] } : nextDay(t.shape, t.truth, t.gone, dice);
        for (const c of casesOf(t.shape, t.commits, day.file)) t.cases.add(c);
        t.commits.push(runDate(t.shape, t.commits.at(-1)?.state ?? new Map(), day.file, date));
        writeBatch(dir, t.shape, date, day.file, dice);
        t.truth = day.truth;
        t.gone = day.gone;
      }
    };

    const runAndCompare = async (date: string) => {
      const outcome = await runDataset(h, config, date);
      if (!outcome.ok) throw new Error(`seed ${seed}, ${date}: run failed: ${outcome.error}`);
      for (const t of tracked) {
        const expected = t.commits.at(-1)!;
        expect({ at: where(t, date, 'counts'), counts: tableResult(outcome, t.shape.name).counts }).toEqual({ at: where(t, date, 'counts'), counts: expected.counts });
        const current = modelTexts(t.shape, expected.state.values());
        const history = modelTexts(t.shape, t.commits.flatMap((c) => c.history));
        const published = await publishedTexts(h, config, t.shape);
        const catalog = await catalogTexts(h, config, t.shape);
        expect({ at: where(t, date, 'current.parquet'), rows: published.current }).toEqual({ at: where(t, date, 'current.parquet'), rows: current });
        expect({ at: where(t, date, 'history partitions'), rows: published.history }).toEqual({ at: where(t, date, 'history partitions'), rows: history });
        expect({ at: where(t, date, '__current'), rows: catalog.current }).toEqual({ at: where(t, date, '__current'), rows: current });
        expect({ at: where(t, date, '__history'), rows: catalog.history }).toEqual({ at: where(t, date, '__history'), rows: history });
        expect({ at: where(t, date, 'files not sorted by KEY_HASH'), files: await unsortedFiles(h, config, t.shape) }).toEqual({ at: where(t, date, 'files not sorted by KEY_HASH'), files: [] });
      }
      return outcome;
    };

    for (const [d, date] of DATES.entries()) {
      advance(date, false);
      await runAndCompare(date);
      if (d !== RERUN_AT) continue;

      // The same bytes again: the write finds the same fingerprint; nothing is committed, nothing published changes.
      for (const t of tracked) rewriteBatch(dir, t.shape, date);
      const bytes = tracked.map((t) => publishedBytes(config, t.shape));
      const snapshot = await latestSnapshot(h, config);
      const again = await runAndCompare(date);
      for (const [i, t] of tracked.entries()) {
        expect(tableResult(again, t.shape.name).skippedStages).toContain('write');
        expect(publishedBytes(config, t.shape)).toEqual(bytes[i]);
        expect(await committedDates(h.engine, config.warehouse, config.dataset, t.shape.name)).toEqual(DATES.slice(0, d + 1));
      }
      expect(await latestSnapshot(h, config)).toBe(snapshot);

      // Another file for the date: its commit is replaced, on the same base; later dates build on the new one.
      advance(date, true);
      const replaced = await runAndCompare(date);
      for (const t of tracked) {
        expect(tableResult(replaced, t.shape.name).baseDate).toBe(DATES[d - 1]);
        expect(await committedDates(h.engine, config.warehouse, config.dataset, t.shape.name)).toEqual(DATES.slice(0, d + 1));
      }
    }
    for (const t of tracked) {
      const expected = ['change in the ignored column only', 'a double zero sent with the other sign', t.shape.mode === 'full' ? 'deleted key inserted again' : 'X row sent again'];
      expect({ table: t.shape.name, cases: [...t.cases].sort() }).toEqual({ table: t.shape.name, cases: expected.sort() });
    }
  });
});

/**
 * Synthetic change records (`cdcflow generate --changes`): a day-1 batch of insert events that
 * builds the state, and a day-2 batch of events over a chosen number of keys with chosen shares
 * of new keys, updated keys and deleted keys, plus duplicate deliveries and stale (late) events,
 * in shuffled order; and a dataset config with a `mode: changes` table for them.
 *
 * As in generate.ts, everything is computed in DuckDB from MD5 of (seed, purpose, row): same
 * seed, same bytes.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ChangeCounts } from '../changes/counts';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import { ConfigError } from '../errors';
import type { OperationCounts } from '../warehouse/commits';
import { writeAtomically } from '../warehouse/atomic';
import { checkedFraction, checkedInt, checkedShares, checkedTable, DATES, half, keyName, rand, range, uuid, VALUE_RANGE, valueName, words } from './generate';

export interface GenerateChangesOptions {
  outDir: string;
  /** Keys inserted on day 1 (one insert event each): the state day 2 applies to. Default 10000. */
  initial?: number;
  /** Day-2 events before duplicates and stale copies. Default: initial. */
  events?: number;
  /** Keys the day-2 events are about (each gets events / touched of them, about). Default: events / 2. */
  touched?: number;
  /** Shares of the touched keys that are new (inserted), updated, deleted; they add up to 1. */
  insert?: number;
  update?: number;
  delete?: number;
  /** Day-2 events delivered twice (share of events). Default 0.05. */
  duplicates?: number;
  /** Day-1 events delivered again on day 2, late (share of events): stale. Default 0.05. */
  stale?: number;
  keys?: number;
  nonkeys?: number;
  seed?: number;
  table?: string;
}

export interface GenerateChangesResult {
  files: { day1: string; day2: string; config: string };
  dates: [string, string];
  /** What the day-2 run must report. */
  expected: { day1Events: number; counts: OperationCounts; changes: ChangeCounts };
}

interface Settings {
  outDir: string;
  initial: number;
  events: number;
  touched: number;
  shares: { insert: number; update: number; delete: number };
  duplicates: number;
  stale: number;
  keys: number;
  nonkeys: number;
  seed: number;
  table: string;
}

function validate(o: GenerateChangesOptions): Settings {
  const initial = checkedInt('initial', o.initial ?? 10_000, 1);
  const events = checkedInt('events', o.events ?? initial, 1);
  const shares = checkedShares({ insert: o.insert, update: o.update, delete: o.delete }, { insert: 0.2, update: 0.6, delete: 0.2 });
  const touched = checkedInt('touched', o.touched ?? Math.max(1, Math.floor(events / 2)), 1, events);
  const table = checkedTable(o.table ?? 'events');
  const s: Settings = {
    outDir: o.outDir,
    initial,
    events,
    touched,
    shares,
    duplicates: checkedFraction('duplicates', o.duplicates ?? 0.05),
    stale: checkedFraction('stale', o.stale ?? 0.05),
    keys: checkedInt('keys', o.keys ?? 1, 1),
    nonkeys: checkedInt('nonkeys', o.nonkeys ?? 10, 0),
    seed: checkedInt('seed', o.seed ?? 42, 0),
    table,
  };
  const { existing } = roles(s);
  if (existing > initial) throw new ConfigError(`--touched × (--update + --delete) = ${existing} existing keys, more than the ${initial} keys of day 1`, { option: 'touched' });
  if (Math.round(s.stale * events) > initial) throw new ConfigError(`--stale × --events is more than the ${initial} day-1 events`, { option: 'stale' });
  return s;
}

function roles(s: Settings) {
  const inserted = Math.round(s.shares.insert * s.touched);
  const deleted = Math.min(Math.round(s.shares.delete * s.touched), s.touched - inserted);
  const updated = s.touched - inserted - deleted;
  return { inserted, deleted, updated, existing: deleted + updated };
}

/** Key columns of key id `i`, and non-key values drawn from words of purpose `tag` for row `i`. */
function rowColumns(s: Settings, valueTag: string, nullValues = 'false'): { inner: string[]; outer: string[] } {
  return {
    inner: words(s.nonkeys).map((k) => `${rand(s.seed, `${valueTag}${k}`)} AS w${k}`),
    outer: range(s.nonkeys).map((j) => `CASE WHEN ${nullValues} THEN NULL ELSE (${half('w', j)} % ${VALUE_RANGE})::BIGINT END AS ${quoteIdent(valueName(j))}`),
  };
}

const keyColumns = (s: Settings) => range(s.keys).map((j) => `${uuid(s.seed, `key${j}`)} AS ${quoteIdent(keyName(j))}`);

/** Day 1: one insert per key, ids 0..N-1, seq = id + 1 (also what a stale copy repeats). */
function day1EventsSql(s: Settings, ids: string): string {
  const v = rowColumns(s, 'values');
  return `SELECT 'I' AS op, i + 1 AS seq, ${[...keyColumns(s), ...v.outer].join(', ')} FROM (SELECT ${['i', ...v.inner].join(', ')} FROM ${ids})`;
}

/**
 * Day 2's events. Touched key t (0..K-1) gets events j = t, t + K, t + 2K, ...; a new key's
 * first is its insert, a deleted key's last its delete, all others updates with fresh values.
 * Keys come from the key id, values from the event number (both are `i` to the helpers).
 */
function day2Sql(s: Settings): string[] {
  const r = roles(s);
  const K = s.touched;
  const v = rowColumns(s, 'event', `op = 'D'`);
  const names = (n: number, name: (j: number) => string) => range(n).map((j) => quoteIdent(name(j)));
  return [
    `CREATE TABLE picked AS SELECT i, row_number() OVER (ORDER BY ${rand(s.seed, 'pick')}, i) - 1 AS rank FROM range(${s.initial}) t(i)`,
    `CREATE TABLE touched AS SELECT t, ${s.initial} + t AS id, 'I' AS role FROM range(${r.inserted}) x(t) ` +
      `UNION ALL SELECT ${r.inserted} + rank, i, CASE WHEN rank < ${r.deleted} THEN 'D' ELSE 'U' END FROM picked WHERE rank < ${r.existing}`,
    `CREATE TABLE ev AS SELECT j, t.id, ${s.initial} + j + 1 AS seq, CASE t.role WHEN 'I' THEN CASE WHEN j < ${K} THEN 'I' ELSE 'U' END ` +
      `WHEN 'D' THEN CASE WHEN j + ${K} >= ${s.events} THEN 'D' ELSE 'U' END ELSE 'U' END AS op FROM range(${s.events}) x(j) JOIN touched t ON t.t = j % ${K}`,
    `CREATE TABLE day2 AS SELECT v.op, v.seq, ${[...names(s.keys, keyName).map((n) => `k.${n}`), ...names(s.nonkeys, valueName).map((n) => `v.${n}`)].join(', ')} ` +
      `FROM (SELECT j, ${keyColumns(s).join(', ')} FROM (SELECT j, id AS i FROM ev)) k ` +
      `JOIN (SELECT j, op, seq${v.outer.map((c) => `, ${c}`).join('')} FROM (SELECT ${['j', 'op', 'seq', ...v.inner].join(', ')} FROM (SELECT j, op, seq, j AS i FROM ev))) v USING (j) ` +
      `ORDER BY j`,
  ];
}

export async function generateChanges(options: GenerateChangesOptions): Promise<GenerateChangesResult> {
  const s = validate(options);
  const r = roles(s);
  const files = {
    day1: path.join(s.outDir, 'day1', `${s.table}.csv`),
    day2: path.join(s.outDir, 'day2', `${s.table}.csv`),
    config: path.join(s.outDir, 'dataset.yaml'),
  };
  const dupCount = Math.round(s.duplicates * s.events);
  const staleCount = Math.round(s.stale * s.events);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  let changes: ChangeCounts;
  try {
    const copy = (query: string, to: string) =>
      writeAtomically(to, async (tmp) => {
        await connection.run(`COPY (${query}) TO ${quoteLiteral(tmp)} (FORMAT csv, HEADER, DELIMITER ',')`);
      });
    await copy(`${day1EventsSql(s, `range(${s.initial}) t(i)`)} ORDER BY md5(concat(${quoteLiteral(`${s.seed}:order1:`)}, seq)), seq`, files.day1);
    for (const sql of day2Sql(s)) await connection.run(sql);
    const columns = ['op', 'seq', ...range(s.keys).map(keyName), ...range(s.nonkeys).map(valueName)].map(quoteIdent).join(', ');
    const batch =
      `SELECT ${columns}, 0 AS copy FROM day2 ` +
      `UNION ALL SELECT ${columns}, 1 FROM day2 WHERE seq - ${s.initial + 1} IN (SELECT i FROM (SELECT i, row_number() OVER (ORDER BY ${rand(s.seed, 'dup')}, i) AS n FROM range(${s.events}) t(i)) WHERE n <= ${dupCount}) ` +
      `UNION ALL SELECT ${columns}, 2 FROM (${day1EventsSql(s, `(SELECT i FROM picked WHERE rank >= ${s.initial - staleCount})`)})`;
    await connection.run(`CREATE TABLE batch AS ${batch}`);
    await copy(`SELECT ${columns} FROM batch ORDER BY md5(concat(${quoteLiteral(`${s.seed}:order2:`)}, seq, ':', copy)), seq, copy`, files.day2);
    const [counts] = (await connection.runAndReadAll(
      `SELECT count(*) AS events, count(*) FILTER (WHERE op = 'I') AS inserts, count(*) FILTER (WHERE op = 'U') AS updates, count(*) FILTER (WHERE op = 'D') AS deletes FROM batch`,
    )).getRowObjectsJson() as Record<string, string | number>[];
    changes = { events: Number(counts.events), inserts: Number(counts.inserts), updates: Number(counts.updates), deletes: Number(counts.deletes), duplicates: dupCount, stale: staleCount };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  await writeAtomically(files.config, (tmp) => writeFile(tmp, datasetYaml(s)));
  return {
    files,
    dates: DATES,
    expected: {
      day1Events: s.initial,
      counts: { I: r.inserted, U: r.updated, D: r.deleted, X: s.initial - r.existing, N: 0 },
      changes,
    },
  };
}

function datasetYaml(s: Settings): string {
  const dir = s.outDir.replace(/[\r\n]/g, '');
  const run = (n: 0 | 1) => `#   cdcflow run --config ${path.join(dir, 'dataset.yaml')} --date ${DATES[n]} --input ${path.join(dir, `day${n + 1}`)}`;
  return [
    `# Generated by cdcflow generate --changes (seed ${s.seed})`,
    `# Day 1: ${s.initial} insert events. Day 2: ${s.events} events over ${s.touched} keys (new/updated/deleted ${s.shares.insert}/${s.shares.update}/${s.shares.delete}),`,
    `# plus ${s.duplicates} of them delivered twice and ${s.stale} as many late copies of day-1 events (stale), shuffled.`,
    '# Run day 1, then day 2:',
    run(0),
    run(1),
    'dataset: generated-changes',
    'warehouse: warehouse          # relative to this file',
    'tables:',
    `  - name: ${JSON.stringify(s.table)}`,
    '    mode: changes',
    '    operation: { column: op }   # I, U, D',
    '    orderBy: [{ name: seq, type: bigint }]',
    '    keys:',
    ...range(s.keys).map((j) => `      - { name: ${keyName(j)}, type: varchar }`),
    ...(s.nonkeys === 0 ? ['    columns: []'] : ['    columns:', ...range(s.nonkeys).map((j) => `      - { name: ${valueName(j)}, type: bigint }`)]),
    '    source:',
    '      format: csv',
    `      path: ${JSON.stringify(`${s.table}.csv`)}        # relative to --input (DIR/day1 or DIR/day2)`,
    '',
  ].join('\n');
}

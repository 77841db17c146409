/** Change-record SQL builders and config: exact text, hostile names, and the SQL run on in-memory DuckDB. */
import { lakeTables } from '../../src/warehouse/catalog';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkConfigText, resolveConfig } from '../../src/config/load';
import type { ChangesSpec } from '../../src/config/types';
import { Engine } from '../../src/engine/duckdb';
import {
  changeCommitSql,
  changeLakeTables,
} from '../../src/changes/commit-changes';
import {
  changeDiffSql,
  debeziumEventsSql,
  duplicateEventsSql,
  effectiveEventsSql,
  eventKindSql,
  exactDuplicateEventsSql,
  firstMatchingEventSql,
  jsonPath,
  newestEventsSql,
  nextOrderStateSql,
  scanEventsSql,
  staleEventsSql,
  stateConflictSql,
} from '../../src/changes/event-sql';

const changes: ChangesSpec = {
  operation: { column: 'op', insert: ['I', 'c', 'r'], update: ['U'], delete: ['D', 'd'] },
  orderBy: [{ name: 'seq', type: 'bigint' }, { name: 'pos', type: 'integer' }],
  positionBreaksTies: false,
  tombstoneRetentionDays: null,
};
const table = { keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], ignore: [], changes };

describe('change-record SQL', () => {
  it('maps operation values trimmed and case-insensitively, and Debezium truncates to T', () => {
    expect(eventKindSql(changes, false, 's.op')).toBe(
      `CASE WHEN lower(trim(CAST(s.op AS VARCHAR))) IN ('i', 'c', 'r') THEN 'I' WHEN lower(trim(CAST(s.op AS VARCHAR))) IN ('u') THEN 'U' ` +
        `WHEN lower(trim(CAST(s.op AS VARCHAR))) IN ('d', 'd') THEN 'D' END`,
    );
    expect(eventKindSql(changes, true, 'x')).toContain(`WHEN lower(trim(CAST(x AS VARCHAR))) IN ('t') THEN 'T' END`);
    expect(eventKindSql({ ...changes, operation: { ...changes.operation, insert: ["it's"] } }, false, 'x')).toContain(`IN ('it''s') THEN 'I'`);
  });

  it('compacts to the newest event per key by the ordering values, then the position where it breaks ties', () => {
    expect(newestEventsSql(table, '/w/events.parquet')).toBe(
      `(SELECT "id", "v", KEY_HASH, NONKEY_HASH, __cdcflow_kind, __cdcflow_order_1, __cdcflow_order_2 ` +
        `FROM read_parquet('/w/events.parquet', hive_partitioning = false) ` +
        `QUALIFY row_number() OVER (PARTITION BY KEY_HASH ORDER BY "__cdcflow_order_1" DESC, "__cdcflow_order_2" DESC) = 1)`,
    );
    expect(newestEventsSql({ ...table, changes: { ...changes, positionBreaksTies: true } }, '/w/events.parquet')).toContain(
      `ORDER BY "__cdcflow_order_1" DESC, "__cdcflow_order_2" DESC, "__cdcflow_position" DESC) = 1`,
    );
  });

  // A delete's values are not part of what makes two events the same.
  const value = (column: string) => `CASE WHEN __cdcflow_kind <> 'D' THEN ${column} END`;

  it('counts every check in one pass, locates the first offender separately, and counts duplicates and conflicts per key and ordering value', () => {
    expect(scanEventsSql('ev', [{ condition: 'k IS NULL' }, { condition: 'op IS NULL', value: 'op' }])).toBe(
      `SELECT count(*) AS events, count(*) FILTER (WHERE __cdcflow_kind = 'I') AS inserts, count(*) FILTER (WHERE __cdcflow_kind = 'U') AS updates, ` +
        `count(*) FILTER (WHERE __cdcflow_kind = 'D') AS deletes, count(*) FILTER (WHERE k IS NULL) AS check_0, count(*) FILTER (WHERE op IS NULL) AS check_1 FROM ev`,
    );
    expect(firstMatchingEventSql('located', { condition: 'op IS NULL', value: 'op' })).toBe(
      `SELECT __cdcflow_file AS file, __cdcflow_line AS line, CAST(op AS VARCHAR) AS value FROM located ` +
        `WHERE op IS NULL ORDER BY __cdcflow_file, __cdcflow_line LIMIT 1`,
    );
    expect(duplicateEventsSql(table, 'ev')).toBe(
      `SELECT coalesce(sum(n - 1) FILTER (WHERE identical), 0) AS duplicates, count(*) FILTER (WHERE NOT identical) AS conflicts FROM (` +
        `SELECT count(*) AS n, min(__cdcflow_kind) IS NOT DISTINCT FROM max(__cdcflow_kind) AND count(__cdcflow_kind) IN (0, count(*)) ` +
        `AND min(${value('NONKEY_HASH')}) IS NOT DISTINCT FROM max(${value('NONKEY_HASH')}) AND count(${value('NONKEY_HASH')}) IN (0, count(*)) AS identical FROM ev ` +
        `GROUP BY "KEY_HASH", "__cdcflow_order_1", "__cdcflow_order_2" HAVING count(*) > 1)`,
    );
    // Ignored columns are not in the non-key hash, so they count as content of their own.
    expect(duplicateEventsSql({ ...table, ignore: ['it"s'] }, 'ev')).toContain(
      `AND min(${value('"it""s"')}) IS NOT DISTINCT FROM max(${value('"it""s"')}) AND count(${value('"it""s"')}) IN (0, count(*)) AS identical`,
    );
    expect(exactDuplicateEventsSql({ ...table, ignore: ['it"s'] }, 'ev')).toContain(
      `GROUP BY "KEY_HASH", "__cdcflow_order_1", "__cdcflow_order_2", __cdcflow_kind, ${value('NONKEY_HASH')}, ${value('"it""s"')})`,
    );
  });

  it('counts copies of identical events beyond the first as duplicates and groups of different events as conflicts', async () => {
    // Per key and seq: a three copies; b two different events, one of them twice; c two seqs; d twice
    // with a NULL ignored value; e two events apart only in an ignored column; f apart in NULL or not;
    // g two deletes apart only in the values they carry (a delete needs the key alone: one change).
    const events =
      `(SELECT * FROM (VALUES ('a', 1, 'I', 'h1', 'x'), ('a', 1, 'I', 'h1', 'x'), ('a', 1, 'I', 'h1', 'x'), ` +
      `('b', 1, 'U', 'h1', 'x'), ('b', 1, 'U', 'h2', 'x'), ('b', 1, 'U', 'h1', 'x'), ('c', 1, 'I', 'h1', 'x'), ('c', 2, 'D', 'h1', 'x'), ` +
      `('d', 1, 'U', 'h1', NULL), ('d', 1, 'U', 'h1', NULL), ('e', 1, 'U', 'h1', 'x'), ('e', 1, 'U', 'h1', 'y'), ` +
      `('f', 1, 'U', 'h1', NULL), ('f', 1, 'U', 'h1', 'x'), ('g', 1, 'D', 'h1', 'x'), ('g', 1, 'D', 'h2', NULL)) ` +
      `AS ev(KEY_HASH, __cdcflow_order_1, __cdcflow_kind, NONKEY_HASH, note))`;
    const oneOrder = { ...table, ignore: ['note'], changes: { ...changes, orderBy: [changes.orderBy[0]] } };
    const engine = await Engine.create({ threads: 1 });
    try {
      // Where groups conflict (b, e, f), only the exact count says that b holds a duplicate too.
      const [counts] = await engine.withSession((s) => s.rows(duplicateEventsSql(oneOrder, events)));
      expect(counts).toEqual({ duplicates: '4', conflicts: '3' });
      const [exact] = await engine.withSession((s) => s.rows(exactDuplicateEventsSql(oneOrder, events)));
      expect(exact).toEqual({ duplicates: '5' });
    } finally {
      await engine.close();
    }
  });

  it('applies only events newer than the ordering state, comparing the ordering values as a tuple; checks every event as old as the state', () => {
    const tuples = ['h', 's'].map((a) => `(${a}."__cdcflow_order_1", ${a}."__cdcflow_order_2")`);
    expect(effectiveEventsSql(table, '/w/h.parquet', 'st')).toBe(
      `SELECT h.* FROM ${newestEventsSql(table, '/w/h.parquet')} h LEFT JOIN st s ON h.KEY_HASH = s.KEY_HASH WHERE s.KEY_HASH IS NULL OR ${tuples[0]} > ${tuples[1]}`,
    );
    // Every event of the batch, not only the newest per key (that would depend on how the feed was cut into batches).
    expect(stateConflictSql(table, '/w/h.parquet', 'st', 'base')).toContain(
      `FROM read_parquet('/w/h.parquet', hive_partitioning = false) h JOIN st s ON h.KEY_HASH = s.KEY_HASH AND ${tuples[0]} = ${tuples[1]} LEFT JOIN base b`,
    );
    expect(staleEventsSql(table, '/w/e.parquet', 'st')).toContain(`WHERE NOT ((ev."__cdcflow_order_1", ev."__cdcflow_order_2") > (s."__cdcflow_order_1", s."__cdcflow_order_2"))`);
  });

  it('applies the effective events in one join: a delete removes a held key and drops an unknown one, no event keeps the row (X)', () => {
    const sql = changeDiffSql(table, '2024-01-05', { effective: 'effective', base: 'base' });
    expect(sql).toContain(`FROM (SELECT * FROM effective WHERE __cdcflow_kind <> 'D') h LEFT JOIN base b ON h.KEY_HASH = b.KEY_HASH`);
    expect(sql).toContain(
      `CASE WHEN e.KEY_HASH IS NULL THEN 'X' ELSE 'D' END AS OPERATION, b.EFF_START_DATE, b.KEY_HASH, b.NONKEY_HASH ` +
        `FROM base b LEFT JOIN effective e ON b.KEY_HASH = e.KEY_HASH WHERE e.KEY_HASH IS NULL OR e.__cdcflow_kind = 'D'`,
    );
  });

  it('drops tombstones past retention only when one is configured', () => {
    const paths = { effective: 'effective', orderState: 'st', out: '/w/o.parquet' };
    expect(nextOrderStateSql(table, '2024-01-05', paths)).not.toContain('DELETED_ON >');
    expect(nextOrderStateSql({ ...table, changes: { ...changes, tombstoneRetentionDays: 30 } }, '2024-01-05', paths)).toContain(
      `WHERE DELETED_ON IS NULL OR DELETED_ON > DATE '2024-01-05' - INTERVAL 30 DAY`,
    );
  });

  it('quotes hostile names: JSON paths, table names, file paths', () => {
    expect(jsonPath('source.lsn')).toBe(`'$."source"."lsn"'`);
    expect(jsonPath(`a"b.c\\d.it's`)).toBe(`'$."a\\"b"."c\\\\d"."it''s"'`);
    const lake = changeLakeTables(lakeTables('l', 'd', 'x'), 'x"y');
    expect(lake).toEqual({ order: `"l"."d"."x""y__order"`, counts: `"l"."d"."x""y__change_counts"` });
    const counts = { events: 1, inserts: 1, updates: 0, deletes: 0, duplicates: 0, stale: 0 };
    expect(changeCommitSql({ ...table, name: 'x"y' }, lakeTables('l', 'd', 'x'), "/w/it's.parquet", '2024-01-02', counts)[3]).toBe(
      `CALL ducklake_add_data_files('l', 'x"y__order', '/w/it''s.parquet', schema => 'd')`,
    );
    expect(changeCommitSql({ ...table, name: 'x"y' }, lakeTables('l', 'd', 'x'), '/w/o.parquet', '2024-01-02', counts, true).slice(2, 4)).toEqual([
      `DROP TABLE "l"."d"."x""y__order"`,
      `CREATE TABLE "l"."d"."x""y__order" (KEY_HASH UUID, __cdcflow_order_1 BIGINT, __cdcflow_order_2 INTEGER, DELETED_ON DATE)`,
    ]);
  });

  it('reads Debezium events with and without the wrapper; hostile field names; deletes from before; tombstone lines skipped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdcflow-dbz-'));
    const file = path.join(dir, "it's.json");
    const hostile = { keys: [{ name: 'a"b.c', type: 'integer' }], columns: [{ name: "it's", type: 'date' }, { name: 'at', type: 'timestamp' }], ignore: [], changes: { ...changes, orderBy: [{ name: 'source.lsn', type: 'bigint' }] } };
    const after = { 'a"b.c': 1, "it's": 19723, at: 1704103200000000 };
    writeFileSync(
      file,
      [
        JSON.stringify({ schema: { type: 'struct' }, payload: { op: 'c', after, source: { lsn: 7 } } }),
        'null',
        JSON.stringify({ op: 'd', before: { 'a"b.c': 2 }, after: null, source: { lsn: 8 } }),
        '{broken',
        JSON.stringify({ schema: null, payload: null }),
      ].join('\n'),
    );
    const engine = await Engine.create({ threads: 1 });
    try {
      const rows = await engine.withSession((s) =>
        s.rows(`SELECT * EXCLUDE (__cdcflow_file) FROM (${debeziumEventsSql(hostile, { path: file, name: file, index: 1, columns: [] })}) ORDER BY __cdcflow_line`),
      );
      expect(rows).toEqual([
        { 'a"b.c': '1', "it's": '2024-01-01', at: '2024-01-01 10:00:00.000000', __cdcflow_op: 'c', __cdcflow_order_1: '7', __cdcflow_line: '1', __cdcflow_position: String(2 ** 40 + 1), __cdcflow_valid: true, __cdcflow_present: true, __cdcflow_absent: null, __cdcflow_unavailable: null, __cdcflow_rounded: null },
        { 'a"b.c': '2', "it's": null, at: null, __cdcflow_op: 'd', __cdcflow_order_1: '8', __cdcflow_line: '3', __cdcflow_position: String(2 ** 40 + 3), __cdcflow_valid: true, __cdcflow_present: true, __cdcflow_absent: null, __cdcflow_unavailable: null, __cdcflow_rounded: null },
        { 'a"b.c': null, "it's": null, at: null, __cdcflow_op: null, __cdcflow_order_1: null, __cdcflow_line: '4', __cdcflow_position: String(2 ** 40 + 4), __cdcflow_valid: false, __cdcflow_present: false, __cdcflow_absent: null, __cdcflow_unavailable: null, __cdcflow_rounded: null },
      ]);
    } finally {
      await engine.close();
    }
  });
});

describe('change-record config', () => {
  const text = (table: string[], mode = '') =>
    ['dataset: d', 'warehouse: wh', ...(mode ? [`mode: ${mode}`] : []), 'tables:', '  - name: t', '    keys: [{ name: id, type: integer }]', '    columns: [{ name: v, type: varchar }, { name: seq, type: bigint }]', ...table].join('\n');

  it('resolves the defaults: operation column op with I/U/D, insert/update/delete, c/u/d/r; orderBy from configured columns', () => {
    const { file, problems } = checkConfigText(text(['    mode: changes', '    orderBy: [seq]', '    source: { format: csv, path: t.csv }']));
    expect(problems).toEqual([]);
    expect(resolveConfig(file!, '/c').tables[0].changes).toEqual({
      operation: { column: 'op', insert: ['I', 'insert', 'c', 'r'], update: ['U', 'update', 'u'], delete: ['D', 'delete', 'd'] },
      orderBy: [{ name: 'seq', type: 'bigint' }],
      positionBreaksTies: false,
      tombstoneRetentionDays: null,
    });
    const dbz = checkConfigText(text(['    source: { format: debezium, path: t.json }'], 'changes'));
    expect(resolveConfig(dbz.file!, '/c').tables[0]).toMatchObject({ mode: 'changes', changes: { orderBy: [{ name: 'source.lsn', type: 'bigint' }], positionBreaksTies: true } });
    expect(resolveConfig(checkConfigText(text(['    source: { format: csv, path: t.csv }'])).file!, '/c').tables[0].changes).toBeUndefined();
  });

  it('reads an ordering column as its column is read: type, format, time zone', () => {
    const { file, problems } = checkConfigText(
      ['dataset: d', 'warehouse: wh', 'tables:', '  - name: t', '    keys: [{ name: id, type: integer }]', '    columns: [{ name: at, type: timestamptz, format: "%d.%m.%Y %H:%M", timeZone: Europe/Berlin }]', '    mode: changes', '    orderBy: [at]', '    source: { format: csv, path: t.csv }'].join('\n'),
    );
    expect(problems).toEqual([]);
    expect(resolveConfig(file!, '/c').tables[0].changes?.orderBy).toEqual([{ name: 'at', type: 'timestamptz', format: '%d.%m.%Y %H:%M', timeZone: 'Europe/Berlin' }]);
  });

  it('reports change-record settings that cannot work, with their field paths', () => {
    const problems = (lines: string[], mode = '') => checkConfigText(text(lines, mode)).problems.map((p) => `${p.path}: ${p.message}`);
    expect(problems(['    mode: changes', '    source: { format: csv, path: t.csv }'])).toEqual([
      'tables[0].orderBy: mode: changes needs orderBy: the column(s) that say which event is newer',
    ]);
    expect(problems(['    mode: changes', '    orderBy: [lsn]', '    operation: { column: kind, insert: [A], delete: [a] }', '    source: { format: csv, path: t.csv }'])).toEqual([
      'tables[0].orderBy[0]: "lsn" is not a configured column; name an event-only column as { name, type }',
      'tables[0].operation.delete[0]: "a" already means insert',
    ]);
    expect(problems(['    orderBy: [seq]', '    tombstoneRetentionDays: 3', '    source: { format: debezium, path: t.json }'])).toEqual([
      'tables[0].orderBy: is for change-record tables only (mode: changes), this table is mode: full',
      'tables[0].tombstoneRetentionDays: is for change-record tables only (mode: changes), this table is mode: full',
      'tables[0].source.format: Debezium change events need mode: changes',
    ]);
    expect(problems(['    operation: { column: op }', '    source: { format: debezium, path: t.json }'], 'changes')).toEqual([
      'tables[0].operation: Debezium events carry their type in "op"; remove operation',
    ]);
    expect(problems(['    orderBy: [seq]', '    source: { format: postgres, connection: DB, table: s.t }'], 'changes')).toEqual([
      'tables[0].source.format: mode: changes reads change records from files (csv, parquet, json, debezium)',
    ]);
  });
});

/**
 * Columns appended to a table's config after its first commits, through the real workflow
 * (Temporal dev server + DuckDB): the catalog tables gain them, the committed state reads them
 * as NULL, a row whose new columns arrive NULL stays N and one that brings a value is U; runs go
 * on from there (the latest date again, later dates) as for any table.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DatasetConfig } from '../../src/config/types';
import { quoteLiteral } from '../../src/engine/sql';
import { lakeTables, withCatalog } from '../../src/warehouse/catalog';
import { datasetFolders, failedTable, type Harness, readRows, runDataset, startHarness, succeeded, tableResult, writeConfig, writeLines } from '../support/harness';
import { PG_URL_VAR, psql } from '../support/postgres';

const DAY1 = '2024-01-01';
const DAY2 = '2024-01-02';
const DAY3 = '2024-01-03';

describe('schema evolution: appended columns', () => {
  let h: Harness;
  const folders = datasetFolders('evo');

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
    folders.removeAll();
  });

  const keys = [{ name: 'id', type: 'integer' }];
  const qty = { name: 'qty', type: 'integer' };
  const added = [
    { name: 'note', type: 'varchar' },
    { name: 'price', type: 'decimal(10,2)', sensitive: true },
  ];
  const table = (name: string, columns: object[], more: object = {}) => ({ name, keys, columns, source: { format: 'csv', path: `${name}/{date}.csv` }, ...more });
  const tableRoot = (config: DatasetConfig, name: string) => path.join(config.warehouse, config.dataset, name);

  it('a full and a delta table take on appended columns: NULL in the committed rows, U only where a value arrives', async () => {
    // The delta table's diff runs as two key-hash buckets.
    const { dir, config } = folders.setup([table('f', [qty]), table('d', [qty], { mode: 'delta', buckets: 2 })]);
    for (const name of ['f', 'd']) {
      writeLines(path.join(dir, name, `${DAY1}.csv`), ['id,qty', '1,5', '2,6', '3,7']);
      writeLines(path.join(dir, name, `${DAY2}.csv`), ['id,qty,note,price', '1,5,,', '2,6,b,', '4,8,d,1.50']);
      writeLines(path.join(dir, name, `${DAY3}.csv`), ['id,qty,note,price', '1,5,,', '2,6,b,', '3,7,,', '4,8,d,1.50']);
    }
    succeeded(await runDataset(h, config, DAY1));
    const evolved = writeConfig(dir, { dataset: config.dataset, warehouse: 'wh', tables: [table('f', [qty, ...added]), table('d', [qty, ...added], { mode: 'delta', buckets: 2 })] });

    const day2 = succeeded(await runDataset(h, evolved, DAY2));
    expect(tableResult(day2, 'f').counts).toEqual({ I: 1, U: 1, D: 1, X: 0, N: 1 });
    expect(tableResult(day2, 'd').counts).toEqual({ I: 1, U: 1, D: 0, X: 1, N: 1 });
    expect(await readRows(h.engine, path.join(tableRoot(evolved, 'd'), 'current.parquet'), 'id')).toEqual([
      { id: 1, qty: 5, note: null, OPERATION: 'N', EFF_START_DATE: DAY1 },
      { id: 2, qty: 6, note: 'b', OPERATION: 'U', EFF_START_DATE: DAY2 },
      { id: 3, qty: 7, note: null, OPERATION: 'X', EFF_START_DATE: DAY1 },
      { id: 4, qty: 8, note: 'd', OPERATION: 'I', EFF_START_DATE: DAY2 },
    ]);
    expect(await readRows(h.engine, path.join(tableRoot(evolved, 'f'), 'history', '*', '*.parquet'), 'eff_start_date, id')).toEqual([
      { id: 1, qty: 5, OPERATION: 'I', eff_start_date: DAY1 },
      { id: 2, qty: 6, OPERATION: 'I', eff_start_date: DAY1 },
      { id: 3, qty: 7, OPERATION: 'I', eff_start_date: DAY1 },
      { id: 2, qty: 6, note: 'b', OPERATION: 'U', eff_start_date: DAY2 },
      { id: 3, qty: 7, note: null, OPERATION: 'D', eff_start_date: DAY2 },
      { id: 4, qty: 8, note: 'd', OPERATION: 'I', eff_start_date: DAY2 },
    ].map((r) => ('note' in r ? r : { ...r, note: null })));
    // The sensitive column goes to its own exports, as for any sensitive column.
    const sensitiveCurrent = path.join(evolved.warehouse, '_sensitive', evolved.dataset, 'f', 'current.parquet');
    expect((await readRows(h.engine, sensitiveCurrent, 'price', ['KEY_HASH'])).map((r) => String(r.price))).toEqual(['1.50', 'null', 'null']);

    // The catalog's tables have the columns now; the state of day 1 reads as it was committed.
    await withCatalog(h.engine, evolved.warehouse, async (s, alias) => {
      const lake = lakeTables(alias, evolved.dataset, 'f');
      // Added after cdcflow's own columns, as ALTER TABLE adds them.
      const columns = (await s.rows<{ column_name: string }>(`DESCRIBE ${lake.current}`)).map((c) => c.column_name);
      expect(columns).toEqual(['id', 'qty', 'OPERATION', 'EFF_START_DATE', 'KEY_HASH', 'NONKEY_HASH', 'note', 'price']);
      expect(await s.rows(`SELECT id, note, price::VARCHAR AS price FROM ${lake.current} ORDER BY id`)).toEqual([
        { id: 1, note: null, price: null },
        { id: 2, note: 'b', price: null },
        { id: 4, note: 'd', price: '1.50' },
      ]);
    });

    // Day 2 again with the same inputs commits nothing new; day 3 goes on from day 2.
    const current = readFileSync(path.join(tableRoot(evolved, 'f'), 'current.parquet'));
    const again = succeeded(await runDataset(h, evolved, DAY2));
    expect(tableResult(again, 'f').skippedStages).toContain('write');
    expect(readFileSync(path.join(tableRoot(evolved, 'f'), 'current.parquet')).equals(current)).toBe(true);
    const day3 = succeeded(await runDataset(h, evolved, DAY3));
    expect(tableResult(day3, 'f').counts).toEqual({ I: 1, U: 0, D: 0, X: 0, N: 3 });
    // The delta's X row of day 2 got the new columns' hash too: unchanged when it comes back.
    expect(tableResult(day3, 'd').counts).toEqual({ I: 0, U: 0, D: 0, X: 0, N: 4 });
  });

  it('the latest date run again with appended columns replaces its commit with the new columns', async () => {
    const { dir, config } = folders.setup([table('t', [qty])]);
    writeLines(path.join(dir, 't', `${DAY1}.csv`), ['id,qty', '1,5', '2,6']);
    writeLines(path.join(dir, 't', `${DAY2}.csv`), ['id,qty,note,price', '1,5,a,', '2,6,,']);
    succeeded(await runDataset(h, config, DAY1));
    succeeded(await runDataset(h, config, DAY2));
    const evolved = writeConfig(dir, { dataset: config.dataset, warehouse: 'wh', tables: [table('t', [qty, ...added])] });
    const rerun = succeeded(await runDataset(h, evolved, DAY2));
    expect(tableResult(rerun, 't').baseDate).toBe(DAY1);
    expect(tableResult(rerun, 't').counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 1 });
    expect(await readRows(h.engine, path.join(tableRoot(evolved, 't'), 'current.parquet'), 'id')).toEqual([
      { id: 1, qty: 5, note: 'a', OPERATION: 'U', EFF_START_DATE: DAY2 },
      { id: 2, qty: 6, note: null, OPERATION: 'N', EFF_START_DATE: DAY1 },
    ]);
  });

  it('sinks take on the appended columns (the sensitive one in its own tables); a column dropped from a sink by hand is still refused', async () => {
    const schema = `s_${randomBytes(4).toString('hex')}`;
    const sinks = [
      { type: 'duckdb', path: 'sink/evo.duckdb', schema },
      { type: 'postgres', name: 'app', connection: PG_URL_VAR, schema },
    ];
    const { dir, config } = folders.setup([table('t', [qty], { sinks }), table('u', [qty], { sinks })]);
    for (const name of ['t', 'u']) {
      writeLines(path.join(dir, name, `${DAY1}.csv`), ['id,qty', '1,5', '2,6']);
      writeLines(path.join(dir, name, `${DAY2}.csv`), ['id,qty,note,price', '1,5,,', '2,6,b,2.50', '3,7,c,']);
      writeLines(path.join(dir, name, `${DAY3}.csv`), ['id,qty,note,price', '1,5,a,', '2,6,b,2.50', '3,7,c,']);
    }
    succeeded(await runDataset(h, config, DAY1));
    const evolved = writeConfig(dir, {
      dataset: config.dataset,
      warehouse: 'wh',
      tables: [table('t', [qty, ...added], { sinks }), table('u', [qty, added[0]], { sinks })],
    });
    const outcome = succeeded(await runDataset(h, evolved, DAY2));
    // Without a sensitive column the sinks' tables gain the column and take the date alone.
    const plain = tableResult(outcome, 'u');
    expect(plain.sinks?.map((r) => r.applied.map((a) => `${a.businessDate} ${a.rebuilt}`))).toEqual([[`${DAY2} false`], [`${DAY2} false`]]);
    expect(psql(`SELECT id, qty, note, "OPERATION" FROM ${schema}.u_current ORDER BY id`).split('\n')).toEqual(['1|5||I', '2|6|b|U', '3|7|c|I']);
    const day2 = tableResult(outcome, 't');
    expect(day2.counts).toEqual({ I: 1, U: 1, D: 0, X: 0, N: 1 });
    // The first sensitive column gives the sinks their sensitive tables: every date is applied again, into all tables.
    expect(day2.sinks?.map((r) => r.applied.map((a) => `${a.businessDate} ${a.rebuilt}`))).toEqual([
      [`${DAY1} true`, `${DAY2} false`],
      [`${DAY1} true`, `${DAY2} false`],
    ]);

    expect(psql(`SELECT id, qty, note, "OPERATION" FROM ${schema}.t_current ORDER BY id`).split('\n')).toEqual(['1|5||I', '2|6|b|U', '3|7|c|I']);
    expect(psql(`SELECT h."OPERATION", s.price FROM ${schema}_sensitive.t_current s JOIN ${schema}.t_current h USING ("KEY_HASH") ORDER BY h.id`).split('\n')).toEqual(['I|', 'U|2.50', 'I|']);
    const file = path.join(dir, 'sink', 'evo.duckdb');
    const inFile = (sql: string) =>
      h.engine.withSession(async (s) => {
        await s.run(`ATTACH ${quoteLiteral(file)} AS evo_sink`);
        try {
          return await s.rows(sql);
        } finally {
          await s.run('DETACH evo_sink');
        }
      });
    expect(await inFile(`SELECT id, note FROM evo_sink.${schema}.t_history ORDER BY EFF_START_DATE, id`)).toEqual([
      { id: 1, note: null },
      { id: 2, note: null },
      { id: 2, note: 'b' },
      { id: 3, note: 'c' },
    ]);

    // Dropped by hand where the latest applied commit had it: refused, as any column missing from a sink.
    await inFile(`ALTER TABLE evo_sink.${schema}.t_current DROP COLUMN note`);
    const day3 = await runDataset(h, evolved, DAY3);
    expect(failedTable(day3, 't')).toContain(`column "note" is missing`);
  });
});

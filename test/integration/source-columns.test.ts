/**
 * Source columns as the sources name them, through the real workflow (Temporal dev server,
 * DuckDB, PostgreSQL): a column read from a source column named otherwise (`source:`, here
 * cdcflow's own names) keeps its configured name in every output, and errors name both; a JSON
 * day whose writer left out a field that is null in every row reads as NULLs with
 * `missingColumns: null`, and is refused without it.
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { DatasetConfig } from '../../src/config/types';
import type { Session } from '../../src/engine/duckdb';
import { quoteLiteral } from '../../src/engine/sql';
import { lakeTables, withCatalog } from '../../src/warehouse/catalog';
import { tableLayout } from '../../src/warehouse/layout';
import { committedDates, datasetFolders, failedTable, type Harness, readRows, runDataset, startHarness, succeeded, tableResult, tempDir, uniqueDataset, writeConfig, writeLines } from '../support/harness';
import { PG_URL_VAR, psql } from '../support/postgres';

const [DAY1, DAY2, DAY3] = ['2024-01-01', '2024-01-02', '2024-01-03'];

let h: Harness;
const folders = datasetFolders('cols');
let pgDir: string;

beforeAll(async () => {
  h = await startHarness();
  pgDir = tempDir('cdcflow-cols-pg-');
  psql(`DROP SCHEMA IF EXISTS cols CASCADE; CREATE SCHEMA cols;`);
});
afterAll(async () => {
  await h?.stop();
  folders.removeAll();
  if (pgDir) rmSync(pgDir, { recursive: true, force: true });
});

/** Column names of a relation, as DuckDB describes it. */
async function columnNames(s: Session, relation: string): Promise<string[]> {
  return (await s.rows<{ column_name: string }>(`DESCRIBE SELECT * FROM ${relation}`)).map((r) => r.column_name);
}

/** Column names of the table's committed current state: its export, its catalog table and its DuckDB sink table. */
async function outputColumns(config: DatasetConfig, table: string, sinkFile?: string): Promise<Record<string, string[]>> {
  const layout = tableLayout(config.warehouse, config.dataset, table);
  const exported = await h.engine.withSession((s) => columnNames(s, `read_parquet(${quoteLiteral(layout.current)})`));
  const catalog = await withCatalog(h.engine, config.warehouse, (s, alias) => columnNames(s, lakeTables(alias, config.dataset, table).current));
  if (!sinkFile) return { exported, catalog };
  const sink = await h.engine.withSession(async (s) => {
    await s.run(`ATTACH ${quoteLiteral(sinkFile)} AS sink_check (READ_ONLY)`);
    try {
      return await columnNames(s, `sink_check.main.${table}_current`);
    } finally {
      await s.run('DETACH sink_check');
    }
  });
  return { exported, catalog, sink };
}

describe('columns read from source columns named otherwise', () => {
  it("a CSV whose columns bear cdcflow's own names: outputs carry the configured names; errors name both", async () => {
    const table = {
      name: 'orders',
      keys: [{ name: 'order_id', source: 'KEY_HASH', type: 'integer' }],
      columns: [
        { name: 'op', source: 'operation', type: 'varchar' },
        { name: 'qty', source: 'Nonkey_Hash', type: 'integer' },
      ],
      source: { format: 'csv', path: 'orders/{date}.csv' },
      sinks: [{ type: 'duckdb', path: 'sink/orders.duckdb', schema: 'main' }],
    };
    const { dir, config } = folders.setup([table]);
    const day = (date: string, ...rows: string[]) => writeLines(path.join(dir, 'orders', `${date}.csv`), rows);
    const layout = tableLayout(config.warehouse, config.dataset, 'orders');

    day(DAY1, 'key_hash,operation,nonkey_hash,note', '1,new,5,x', '2,new,7,y');
    expect(tableResult(succeeded(await runDataset(h, config, DAY1)), 'orders').counts).toEqual({ I: 2, U: 0, D: 0, X: 0, N: 0 });
    day(DAY2, 'key_hash,operation,nonkey_hash,note', '1,paid,5,x', '2,new,7,z');
    expect(tableResult(succeeded(await runDataset(h, config, DAY2)), 'orders').counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 1 });

    expect(await readRows(h.engine, layout.current, 'order_id')).toEqual([
      { order_id: 1, op: 'paid', qty: 5, OPERATION: 'U', EFF_START_DATE: DAY2 },
      { order_id: 2, op: 'new', qty: 7, OPERATION: 'N', EFF_START_DATE: DAY1 },
    ]);
    expect(await readRows(h.engine, layout.history(DAY2), 'order_id')).toEqual([{ order_id: 1, op: 'paid', qty: 5, OPERATION: 'U', eff_start_date: DAY2 }]);
    const data = ['order_id', 'op', 'qty', 'OPERATION', 'EFF_START_DATE', 'KEY_HASH', 'NONKEY_HASH'];
    expect(await outputColumns(config, 'orders', path.join(dir, 'sink', 'orders.duckdb'))).toEqual({ exported: data, catalog: data, sink: data });

    const refusal = async (...rows: string[]) => {
      day(DAY3, ...rows);
      return failedTable(await runDataset(h, config, DAY3), 'orders');
    };
    const file = path.join(dir, 'orders', `${DAY3}.csv`);
    expect(await refusal('key_hash,op,nonkey_hash', '1,paid,5')).toBe(
      `source is missing configured column(s) "op" (source column "operation") (dataset=${config.dataset} table=orders file=${file} column=op)`,
    );
    expect(await refusal('key_hash,operation,nonkey_hash', '1,paid,5', '2,new,seven')).toMatch(
      /^value "seven" in column "qty" \(source column "Nonkey_Hash"\) does not convert exactly to integer \(.* row=2 line=3 column=qty value=seven\)$/,
    );
    expect(await refusal('key_hash,operation,nonkey_hash', '1,paid,5', ',new,7')).toMatch(/^key column "order_id" \(source column "KEY_HASH"\) is NULL \(.* row=2 line=3 column=order_id\)$/);
    expect(await refusal('key_hash,operation,nonkey_hash', '1,paid,5', '1,new,7')).toMatch(/^duplicate key \(order_id=1\) in the batch \(.* row 1 and .* row 2\)/);
    expect(await committedDates(h.engine, config.warehouse, config.dataset, 'orders')).toEqual([DAY1, DAY2]);
  });

  it('a PostgreSQL table with a column named operation: read as op into every output; a source column it lacks is named', async () => {
    psql(`CREATE TABLE cols.events (id bigint PRIMARY KEY, "operation" text, amount integer);
      INSERT INTO cols.events VALUES (1, 'insert', 10), (2, 'insert', 20);`);
    const table = (name: string, opSource: string) => ({
      name,
      keys: [{ name: 'id', type: 'bigint' }],
      columns: [
        { name: 'op', source: opSource, type: 'varchar' },
        { name: 'amount', type: 'integer' },
      ],
      source: { format: 'postgres', connection: PG_URL_VAR, table: 'cols.events' },
    });
    const folder = path.join(pgDir, 'events');
    mkdirSync(folder, { recursive: true });
    const config = writeConfig(folder, { dataset: uniqueDataset('cols-pg'), warehouse: 'warehouse', tables: [table('events', 'operation'), table('misnamed', 'opcode')] });
    const layout = tableLayout(config.warehouse, config.dataset, 'events');

    const day1 = await runDataset(h, config, DAY1);
    expect(tableResult(day1, 'events').counts).toEqual({ I: 2, U: 0, D: 0, X: 0, N: 0 });
    expect(failedTable(day1, 'misnamed')).toBe(
      `source is missing configured column(s) "op" (source column "opcode") (dataset=${config.dataset} table=misnamed source=cols.events column=op)`,
    );
    psql(`UPDATE cols.events SET "operation" = 'update', amount = 11 WHERE id = 1;`);
    expect(tableResult(await runDataset(h, config, DAY2, ['events']), 'events').counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 1 });

    expect(await readRows(h.engine, layout.current, 'id')).toEqual([
      { id: '1', op: 'update', amount: 11, OPERATION: 'U', EFF_START_DATE: DAY2 },
      { id: '2', op: 'insert', amount: 20, OPERATION: 'N', EFF_START_DATE: DAY1 },
    ]);
    const data = ['id', 'op', 'amount', 'OPERATION', 'EFF_START_DATE', 'KEY_HASH', 'NONKEY_HASH'];
    expect(await outputColumns(config, 'events')).toEqual({ exported: data, catalog: data });
  });
});

describe('fields a JSON file leaves out', () => {
  it('missingColumns: null reads a field absent from a day as NULL of its type; without it the day is refused as before; a key is never absent', async () => {
    const table = (name: string, source: object = {}) => ({
      name,
      keys: [{ name: 'id', type: 'integer' }],
      columns: [
        { name: 'name', type: 'varchar' },
        { name: 'note', type: 'varchar' },
        { name: 'score', type: 'integer' },
      ],
      source: { format: 'json', path: 'people/{date}.json', ...source },
    });
    const { dir, config } = folders.setup([table('lenient', { missingColumns: null }), table('strict')]);
    const day = (date: string, ...rows: object[]) => writeLines(path.join(dir, 'people', `${date}.json`), rows.map((r) => JSON.stringify(r)));
    const layout = tableLayout(config.warehouse, config.dataset, 'lenient');

    day(DAY1, { id: 1, name: 'a', note: 'x', score: 5 }, { id: 2, name: 'b', note: null, score: null }, { id: 3, name: 'c', note: 'z', score: 7 });
    const day1 = succeeded(await runDataset(h, config, DAY1));
    expect(tableResult(day1, 'lenient').counts).toEqual({ I: 3, U: 0, D: 0, X: 0, N: 0 });
    expect(tableResult(day1, 'strict').counts).toEqual({ I: 3, U: 0, D: 0, X: 0, N: 0 });

    // Written with omitempty: note and score are null in every row, so no row has them.
    day(DAY2, { id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'C' });
    const day2 = await runDataset(h, config, DAY2);
    expect(tableResult(day2, 'lenient').counts).toEqual({ I: 0, U: 2, D: 0, X: 0, N: 1 });
    expect(await readRows(h.engine, layout.history(DAY2), 'id')).toEqual([
      { id: 1, name: 'a', note: null, score: null, OPERATION: 'U', eff_start_date: DAY2 },
      { id: 3, name: 'C', note: null, score: null, OPERATION: 'U', eff_start_date: DAY2 },
    ]);
    const file = path.join(dir, 'people', `${DAY2}.json`);
    expect(failedTable(day2, 'strict')).toBe(
      `source is missing configured column(s) "note", "score" (dataset=${config.dataset} table=strict file=${file} column=note,score)`,
    );
    // The state keeps the configured types, so the next day with values compares as before.
    const types = await h.engine.withSession((s) => s.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT note, score FROM read_parquet(${quoteLiteral(layout.current)})`));
    expect(types.map((t) => t.column_type)).toEqual(['VARCHAR', 'INTEGER']);

    day(DAY3, { name: 'a', note: 'x' });
    expect(failedTable(await runDataset(h, config, DAY3, ['lenient']), 'lenient')).toBe(
      `source is missing configured column(s) "id" (a key column is never read as NULL, whatever missingColumns says) ` +
        `(dataset=${config.dataset} table=lenient file=${path.join(dir, 'people', `${DAY3}.json`)} column=id)`,
    );
  });
});

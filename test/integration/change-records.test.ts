/**
 * Change-record tables (mode: changes) through the real workflow: the employees worked example,
 * re-delivered and out-of-order batches, re-runs, Debezium change events, and bad events.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/load';
import type { DatasetConfig } from '../../src/config/types';
import { generateChanges } from '../../src/generator/generate-changes';
import { datasetFolders, failedTable, type Harness, readRows, renameDataset, runDataset, startHarness, succeeded, tableResult, tempDir, uniqueDataset, writeLines } from '../support/harness';

const DAY1 = '2024-01-01';
const DAY2 = '2024-01-02';
const DAY3 = '2024-01-03';
const DAY4 = '2024-01-04';

describe('change-record tables', () => {
  let h: Harness;
  const folders = datasetFolders('chg');

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
    folders.removeAll();
  });




  const tableRoot = (config: DatasetConfig, table: string) => path.join(config.warehouse, config.dataset, table);
  const current = (config: DatasetConfig, table: string) => readRows(h.engine, path.join(tableRoot(config, table), 'current.parquet'), 'id');
  const history = (config: DatasetConfig, table: string, date: string) =>
    readRows(h.engine, path.join(tableRoot(config, table), 'history', `eff_start_date=${date}`, 'data.parquet'), 'id');

  const employees = {
    name: 'employees',
    mode: 'changes',
    keys: [{ name: 'id', type: 'integer' }],
    columns: [
      { name: 'name', type: 'varchar' },
      { name: 'salary', type: 'integer' },
    ],
    operation: { column: 'op' },
    orderBy: [{ name: 'seq', type: 'bigint' }],
    source: { format: 'csv', path: 'employees/{date}.csv' },
  };

  it('the employees example: updated twice then deleted → D; inserted then updated → I with the latest values; inserted → I', async () => {
    const { dir, config } = folders.setup([employees]);
    writeLines(path.join(dir, 'employees', `${DAY1}.csv`), ['op,seq,id,name,salary', 'I,1,1,Ann,100', 'I,2,4,Dan,400']);
    writeLines(path.join(dir, 'employees', `${DAY2}.csv`), [
      'op,seq,id,name,salary',
      'U,3,1,Ann,110',
      'U,4,1,Ann B.,120',
      'D,5,1,,',
      'I,6,2,Bob,200',
      'U,7,2,Bob,210',
      'I,8,3,Cid,300',
    ]);
    expect(tableResult(succeeded(await runDataset(h, config, DAY1)), 'employees').counts).toEqual({ I: 2, U: 0, D: 0, X: 0, N: 0 });

    const day2 = tableResult(succeeded(await runDataset(h, config, DAY2)), 'employees');
    expect(day2.counts).toEqual({ I: 2, U: 0, D: 1, X: 1, N: 0 });
    expect(day2.changes).toEqual({ events: 6, inserts: 2, updates: 3, deletes: 1, duplicates: 0, stale: 0 });
    expect(await current(config, 'employees')).toEqual([
      { id: 2, name: 'Bob', salary: 210, OPERATION: 'I', EFF_START_DATE: DAY2 },
      { id: 3, name: 'Cid', salary: 300, OPERATION: 'I', EFF_START_DATE: DAY2 },
      { id: 4, name: 'Dan', salary: 400, OPERATION: 'X', EFF_START_DATE: DAY1 },
    ]);
    // The deleted employee leaves with its last committed values.
    expect(await history(config, 'employees', DAY2)).toEqual([
      { id: 1, name: 'Ann', salary: 100, OPERATION: 'D', eff_start_date: DAY2 },
      { id: 2, name: 'Bob', salary: 210, OPERATION: 'I', eff_start_date: DAY2 },
      { id: 3, name: 'Cid', salary: 300, OPERATION: 'I', eff_start_date: DAY2 },
    ]);

    // Re-running the latest date gives byte-identical outputs.
    const root = tableRoot(config, 'employees');
    const bytes = () => [readFileSync(path.join(root, 'current.parquet')), readFileSync(path.join(root, 'history', `eff_start_date=${DAY2}`, 'data.parquet'))];
    const before = bytes();
    const again = tableResult(succeeded(await runDataset(h, config, DAY2)), 'employees');
    expect(again.counts).toEqual(day2.counts);
    expect(again.changes).toEqual(day2.changes);
    expect(bytes()).toEqual(before);
  });

  it('an event-type column called operation, like the column cdcflow adds, is read as the event type', async () => {
    const { dir, config } = folders.setup([{ ...employees, operation: { column: 'operation' } }]);
    writeLines(path.join(dir, 'employees', `${DAY1}.csv`), ['operation,seq,id,name,salary', 'I,1,1,Ann,100', 'I,2,2,Bob,200', 'D,3,2,,']);
    expect(tableResult(succeeded(await runDataset(h, config, DAY1)), 'employees').counts).toEqual({ I: 1, U: 0, D: 0, X: 0, N: 0 });
    expect(await current(config, 'employees')).toEqual([{ id: 1, name: 'Ann', salary: 100, OPERATION: 'I', EFF_START_DATE: DAY1 }]);
  });

  it('Parquet events: typed columns, several files of one batch, lines reported as rows', async () => {
    const { dir, config } = folders.setup([{ ...employees, source: { format: 'parquet', path: 'employees/{date}/*.parquet' } }]);
    mkdirSync(path.join(dir, 'employees', DAY1), { recursive: true });
    const parquet = (file: string, values: string) =>
      h.engine.withSession((s) =>
        s.run(`COPY (SELECT * FROM (VALUES ${values}) v(op, seq, id, name, salary)) TO '${path.join(dir, 'employees', DAY1, file)}' (FORMAT parquet)`),
      );
    await parquet('a.parquet', `('I', 1::BIGINT, 1, 'Ann', 100), ('I', 2::BIGINT, 2, 'Bob', 200)`);
    await parquet('b.parquet', `('D', 3::BIGINT, 1, NULL, NULL), ('U', 4::BIGINT, 2, 'Bob', 250)`);
    const day1 = tableResult(succeeded(await runDataset(h, config, DAY1)), 'employees');
    expect(day1.counts).toEqual({ I: 1, U: 0, D: 0, X: 0, N: 0 });
    expect(await current(config, 'employees')).toEqual([{ id: 2, name: 'Bob', salary: 250, OPERATION: 'I', EFF_START_DATE: DAY1 }]);

    await parquet('c.parquet', `('U', 5::BIGINT, 2, 'Bob', 12.5)`);
    const failed = failedTable(await runDataset(h, config, DAY1), 'employees');
    expect(failed).toContain('value "12.5" in field "salary" does not convert exactly to integer');
    expect(failed).toContain(`file=${path.join(dir, 'employees', DAY1, 'c.parquet')} row=1 column=salary`);
  });

  it('a batch delivered again later, and a late old update, are stale: no resurrection, no overwrite', async () => {
    const { dir, config } = folders.setup([employees]);
    const day1 = ['op,seq,id,name,salary', 'I,1,1,Ann,100', 'I,2,2,Bob,200', 'I,3,3,Cid,300'];
    writeLines(path.join(dir, 'employees', `${DAY1}.csv`), day1);
    writeLines(path.join(dir, 'employees', `${DAY2}.csv`), ['op,seq,id,name,salary', 'D,10,1,,', 'U,11,2,Bob,250', 'U,12,3,Cid,300']);
    // Day 1's batch again, plus an update older than day 2's delete of 1 and a duplicate of it.
    writeLines(path.join(dir, 'employees', `${DAY3}.csv`), [...day1, 'U,5,1,Ann,999', 'U,5,1,Ann,999', 'U,4,2,Bob,1']);
    // A genuinely new event for a deleted key re-inserts it.
    writeLines(path.join(dir, 'employees', `${DAY4}.csv`), ['op,seq,id,name,salary', 'I,20,1,Ann II,500']);

    succeeded(await runDataset(h, config, DAY1));
    const day2 = tableResult(succeeded(await runDataset(h, config, DAY2)), 'employees');
    expect(day2.counts).toEqual({ I: 0, U: 1, D: 1, X: 0, N: 1 });

    const day3 = tableResult(succeeded(await runDataset(h, config, DAY3)), 'employees');
    expect(day3.counts).toEqual({ I: 0, U: 0, D: 0, X: 2, N: 0 });
    expect(day3.changes).toEqual({ events: 6, inserts: 3, updates: 3, deletes: 0, duplicates: 1, stale: 6 });
    expect(day3.historyRows).toBe(0);
    expect(await current(config, 'employees')).toEqual([
      { id: 2, name: 'Bob', salary: 250, OPERATION: 'X', EFF_START_DATE: DAY2 },
      { id: 3, name: 'Cid', salary: 300, OPERATION: 'X', EFF_START_DATE: DAY1 },
    ]);

    const day4 = tableResult(succeeded(await runDataset(h, config, DAY4)), 'employees');
    expect(day4.counts).toEqual({ I: 1, U: 0, D: 0, X: 2, N: 0 });
    expect((await current(config, 'employees')).map((r) => r.name)).toEqual(['Ann II', 'Bob', 'Cid']);
  });

  /** Debezium events ordered by source.ts_ms, and customer 1001 created at ts 10 and updated at ts 20. */
  const byTimeTable = () => customers({ name: 'by_time', orderBy: [{ name: 'source.ts_ms', type: 'bigint' }], source: { format: 'debezium', path: 'by_time/{date}/*.json' } });
  const byTimeDay1 = () => [debezium('c', 10, { after: row(1001, 'a1@acme.com') }, false), debezium('u', 20, { after: row(1001, 'a2@acme.com') }, false)];
  /** The refusal of an update at the committed event's ordering values that is not that event. */
  const tieRefused = (key: string, place: string, order: string, committed = 'set other values') =>
    `key (${key}): an event of the batch${place} is an update with the same ordering values (${order}) as the committed event of the key, which ${committed}`;

  it('an event with the ordering values of the committed event: stale when it is that event again, else refused (not dropped)', async () => {
    const gone = { ...employees, name: 'gone', source: { format: 'csv', path: 'gone/{date}.csv' } };
    const { dir, config } = folders.setup([employees, byTimeTable(), gone]);
    const header = 'op,seq,id,name,salary';
    // A deleted key: its delete again is stale, an update at the delete's seq is refused.
    writeLines(path.join(dir, 'gone', `${DAY1}.csv`), [header, 'I,1,5,Eve,500', 'D,2,5,,']);
    writeLines(path.join(dir, 'gone', `${DAY2}.csv`), [header, 'D,2,5,,']);
    writeLines(path.join(dir, 'gone', `${DAY3}.csv`), [header, 'U,2,5,Eve,600']);
    writeLines(path.join(dir, 'employees', `${DAY1}.csv`), [header, 'I,1,1,Ann,100', 'I,2,2,Bob,200', 'I,3,3,Cid,300', 'D,4,3,,']);
    // The events the state reflects, delivered again (an update equal to the inserted row counts as it).
    writeLines(path.join(dir, 'employees', `${DAY2}.csv`), [header, 'U,1,1,Ann,100', 'D,4,3,,']);
    // A different event at seq 2: newer or older than the committed one, nobody can tell.
    writeLines(path.join(dir, 'employees', `${DAY3}.csv`), [header, 'U,2,2,Bob,250']);
    // Debezium ordered by source.ts_ms: two updates of one row in one millisecond, in two batches.
    writeLines(path.join(dir, 'by_time', DAY1, 'part-0.json'), byTimeDay1());
    writeLines(path.join(dir, 'by_time', DAY2, 'part-0.json'), [debezium('u', 20, { after: row(1001, 'a2@acme.com') }, false)]);
    writeLines(path.join(dir, 'by_time', DAY3, 'part-0.json'), [
      debezium('u', 20, { after: row(1001, 'a2@acme.com') }, false),
      debezium('u', 20, { after: row(1001, 'a3@acme.com') }, false),
    ]);

    succeeded(await runDataset(h, config, DAY1));
    const day2 = succeeded(await runDataset(h, config, DAY2));
    expect(tableResult(day2, 'employees').changes).toMatchObject({ events: 2, stale: 2 });
    expect(tableResult(day2, 'employees').counts).toEqual({ I: 0, U: 0, D: 0, X: 2, N: 0 });
    expect(tableResult(day2, 'by_time').changes).toMatchObject({ events: 1, stale: 1 });
    expect(tableResult(day2, 'gone').changes).toMatchObject({ events: 1, stale: 1 });

    const day3 = await runDataset(h, config, DAY3);
    expect(day3.ok).toBe(false);
    expect(failedTable(day3, 'employees')).toContain(`${tieRefused('id=2', '', 'seq = 2')}; which one is newer is unknown`);
    expect(failedTable(day3, 'by_time')).toContain(tieRefused('id=1001', ` (${path.join(dir, 'by_time', DAY3, 'part-0.json')} line 2)`, 'source.ts_ms = 1704067200020'));
    expect(failedTable(day3, 'gone')).toContain(tieRefused('id=5', '', 'seq = 2', 'deleted the key'));
    // Nothing of day 3 is committed.
    expect((await current(config, 'employees')).map((r) => [r.id, r.salary, r.EFF_START_DATE])).toEqual([
      [1, 100, DAY1],
      [2, 200, DAY1],
    ]);
    expect((await current(config, 'by_time')).map((r) => r.email)).toEqual(['a2@acme.com']);
  });

  it('an event as old as the committed one is refused even when a newer event of its key follows; deletes apart only in their values are one delete', async () => {
    const deletes = { ...employees, name: 'deletes', source: { format: 'csv', path: 'deletes/{date}.csv' } };
    const { dir, config } = folders.setup([employees, byTimeTable(), deletes]);
    const header = 'op,seq,id,name,salary';
    writeLines(path.join(dir, 'employees', `${DAY1}.csv`), [header, 'I,1,1,Ann,100', 'I,1,2,Bob,200']);
    // Another event at the committed seq 1, then a newer one: cut into batches otherwise, the feed would be refused.
    writeLines(path.join(dir, 'employees', `${DAY2}.csv`), [header, 'U,1,1,Ann,999', 'U,2,1,Ann,110']);
    writeLines(path.join(dir, 'by_time', DAY1, 'part-0.json'), byTimeDay1());
    // At the committed millisecond: another update, then the committed one again (which the position makes the newest).
    writeLines(path.join(dir, 'by_time', DAY2, 'part-0.json'), [
      debezium('u', 20, { after: row(1001, 'a3@acme.com') }, false),
      debezium('u', 20, { after: row(1001, 'a2@acme.com') }, false),
    ]);
    writeLines(path.join(dir, 'deletes', `${DAY1}.csv`), [header, 'I,1,1,Ann,100']);
    // One delete, delivered with the row's values and with the key alone.
    writeLines(path.join(dir, 'deletes', `${DAY2}.csv`), [header, 'D,5,1,Ann,100', 'D,5,1,,']);

    succeeded(await runDataset(h, config, DAY1));
    const day2 = await runDataset(h, config, DAY2);
    expect(day2.ok).toBe(false);
    expect(failedTable(day2, 'employees')).toContain(tieRefused('id=1', '', 'seq = 1'));
    expect(failedTable(day2, 'by_time')).toContain(tieRefused('id=1001', ` (${path.join(dir, 'by_time', DAY2, 'part-0.json')} line 1)`, 'source.ts_ms = 1704067200020'));
    expect((await current(config, 'employees')).map((r) => [r.id, r.salary, r.EFF_START_DATE])).toEqual([
      [1, 100, DAY1],
      [2, 200, DAY1],
    ]);
    expect((await current(config, 'by_time')).map((r) => r.email)).toEqual(['a2@acme.com']);
    const deleted = tableResult(day2, 'deletes');
    expect(deleted.counts).toEqual({ I: 0, U: 0, D: 1, X: 0, N: 0 });
    expect(deleted.changes).toEqual({ events: 2, inserts: 0, updates: 0, deletes: 2, duplicates: 1, stale: 0 });
    expect(await history(config, 'deletes', DAY2)).toEqual([{ id: 1, name: 'Ann', salary: 100, OPERATION: 'D', eff_start_date: DAY2 }]);
  });

  it('tombstones past tombstoneRetentionDays are dropped: a late event may then insert the key again', async () => {
    const { dir, config } = folders.setup([{ ...employees, tombstoneRetentionDays: 1 }]);
    writeLines(path.join(dir, 'employees', `${DAY1}.csv`), ['op,seq,id,name,salary', 'I,1,1,Ann,100', 'D,2,1,,']);
    writeLines(path.join(dir, 'employees', `${DAY2}.csv`), ['op,seq,id,name,salary', 'U,1,1,Ann,100']);
    writeLines(path.join(dir, 'employees', `${DAY3}.csv`), ['op,seq,id,name,salary', 'U,1,1,Ann,100']);
    expect(tableResult(succeeded(await runDataset(h, config, DAY1)), 'employees').counts).toEqual({ I: 0, U: 0, D: 0, X: 0, N: 0 });
    // Day 2: the tombstone of day 1 is one day old, still kept: the late update is stale.
    expect(tableResult(succeeded(await runDataset(h, config, DAY2)), 'employees').changes?.stale).toBe(1);
    // Day 2's commit dropped it (older than one day by then): the same late update inserts.
    const day3 = tableResult(succeeded(await runDataset(h, config, DAY3)), 'employees');
    expect(day3.counts.I).toBe(1);
    expect(day3.changes?.stale).toBe(0);
  });

  /** A Debezium PostgreSQL change event for inventory.customers, as the JSON converter writes it. */
  function debezium(op: string, lsn: number, row: { before?: object | null; after?: object | null }, wrapped: boolean): string {
    const payload = {
      before: row.before ?? null,
      after: row.after ?? null,
      source: {
        version: '2.5.0.Final',
        connector: 'postgresql',
        name: 'dbserver1',
        ts_ms: 1704067200000 + lsn,
        snapshot: op === 'r' ? 'true' : 'false',
        db: 'postgres',
        sequence: `[null,"${lsn}"]`,
        schema: 'inventory',
        table: 'customers',
        txId: 500 + lsn,
        lsn,
        xmin: null,
      },
      op,
      ts_ms: 1704067200100 + lsn,
      transaction: null,
    };
    if (!wrapped) return JSON.stringify(payload);
    const field = (f: string, type: string, name?: string) => ({ type, optional: f !== 'id', field: f, ...(name ? { name, version: 1 } : {}) });
    const value = {
      type: 'struct',
      fields: [field('id', 'int32'), field('email', 'string'), field('created', 'int32', 'io.debezium.time.Date'), field('updated_at', 'int64', 'io.debezium.time.MicroTimestamp')],
      optional: true,
      name: 'dbserver1.inventory.customers.Value',
    };
    const schema = {
      type: 'struct',
      fields: [{ ...value, field: 'before' }, { ...value, field: 'after' }, { type: 'struct', fields: [], optional: false, name: 'io.debezium.connector.postgresql.Source', field: 'source' }, { type: 'string', optional: false, field: 'op' }],
      optional: false,
      name: 'dbserver1.inventory.customers.Envelope',
      version: 1,
    };
    return JSON.stringify({ schema, payload });
  }

  const customers = (more: object = {}) => ({
    name: 'customers',
    mode: 'changes',
    keys: [{ name: 'id', type: 'integer' }],
    columns: [
      { name: 'email', type: 'varchar' },
      { name: 'created', type: 'date' },
      { name: 'updated_at', type: 'timestamp' },
    ],
    source: { format: 'debezium', path: 'customers/{date}/*.json' },
    ...more,
  });

  // 2024-01-01 is day 19723 since 1970; updated_at in microseconds since 1970.
  const row = (id: number, email: string | null, at = 1704103200000000) => ({ id, email, created: 19723, updated_at: at });

  it('Debezium PostgreSQL events (snapshot reads, create, update, delete; with and without the schema wrapper) give the state', async () => {
    const { dir, config } = folders.setup([customers()]);
    expect(config.tables[0].changes?.orderBy).toEqual([{ name: 'source.lsn', type: 'bigint' }]);
    writeLines(path.join(dir, 'customers', DAY1, 'part-0.json'), [
      debezium('r', 100, { after: row(1001, 'sally@acme.com') }, true),
      debezium('r', 100, { after: row(1002, 'george@acme.com') }, true),
      debezium('r', 100, { after: row(1003, 'ed@acme.com') }, false),
      debezium('c', 200, { after: row(1004, 'anne@acme.com') }, true),
    ]);
    writeLines(path.join(dir, 'customers', DAY1, 'part-1.json'), [
      debezium('u', 300, { before: row(1001, 'sally@acme.com'), after: row(1001, 'sally.t@acme.com', 1704106800000000) }, false),
      // REPLICA IDENTITY DEFAULT: the delete's before image holds the key only.
      debezium('d', 400, { before: { id: 1002, email: null, created: null, updated_at: null } }, true),
      'null',
      // The same tombstone through a JSON converter with schemas enabled.
      JSON.stringify({ schema: null, payload: null }),
      '',
      // Two events at one log position: the later one in the batch wins.
      debezium('u', 350, { after: row(1003, 'ed.first@acme.com') }, false),
      debezium('u', 350, { after: row(1003, 'ed.second@acme.com') }, true),
    ]);
    // Late and re-delivered events: the snapshot read of the deleted 1002, the old update of 1001.
    writeLines(path.join(dir, 'customers', DAY2, 'part-0.json'), [
      debezium('r', 100, { after: row(1002, 'george@acme.com') }, true),
      debezium('u', 300, { after: row(1001, 'sally.t@acme.com', 1704106800000000) }, false),
      debezium('d', 500, { before: { id: 1004 } }, false),
    ]);

    const day1 = tableResult(succeeded(await runDataset(h, config, DAY1)), 'customers');
    expect(day1.counts).toEqual({ I: 3, U: 0, D: 0, X: 0, N: 0 });
    expect(day1.changes).toEqual({ events: 8, inserts: 4, updates: 3, deletes: 1, duplicates: 0, stale: 0 });
    expect(await current(config, 'customers')).toEqual([
      { id: 1001, email: 'sally.t@acme.com', created: DAY1, updated_at: '2024-01-01 11:00:00', OPERATION: 'I', EFF_START_DATE: DAY1 },
      { id: 1003, email: 'ed.second@acme.com', created: DAY1, updated_at: '2024-01-01 10:00:00', OPERATION: 'I', EFF_START_DATE: DAY1 },
      { id: 1004, email: 'anne@acme.com', created: DAY1, updated_at: '2024-01-01 10:00:00', OPERATION: 'I', EFF_START_DATE: DAY1 },
    ]);

    const day2 = tableResult(succeeded(await runDataset(h, config, DAY2)), 'customers');
    expect(day2.counts).toEqual({ I: 0, U: 0, D: 1, X: 2, N: 0 });
    expect(day2.changes).toMatchObject({ events: 3, stale: 2 });
    expect((await current(config, 'customers')).map((r) => r.id)).toEqual([1001, 1003]);
  });

  it('files in folders named like partitions (dt=…/) are read as they are: the folder adds no column', async () => {
    // DuckDB took `dt=2024-01-01` for a column: the Debezium lines were numbered by it (a cast of a DATE to BIGINT failed)
    // and a CSV file with extraColumns: refuse had a column "dt" not in the config.
    const strict = { ...employees, name: 'strict', source: { format: 'csv', path: 'strict/dt={date}/events.csv', extraColumns: 'refuse' } };
    const { dir, config } = folders.setup([customers({ source: { format: 'debezium', path: 'customers/dt={date}/*.json' } }), strict]);
    writeLines(path.join(dir, 'customers', `dt=${DAY1}`, 'part-0.json'), [debezium('c', 100, { after: row(1001, 'sally@acme.com') }, false)]);
    writeLines(path.join(dir, 'strict', `dt=${DAY1}`, 'events.csv'), ['op,seq,id,name,salary', 'I,1,1,Ann,100']);
    const day1 = succeeded(await runDataset(h, config, DAY1));
    expect(tableResult(day1, 'customers').counts).toMatchObject({ I: 1 });
    expect(tableResult(day1, 'strict').counts).toMatchObject({ I: 1 });
    expect(Object.keys((await current(config, 'strict'))[0])).not.toContain('dt');
  });

  it('bad events fail the table with a DataError naming file, line and field; nothing is committed', async () => {
    const csv = (name: string) => ({ ...employees, name, source: { format: 'csv', path: `${name}/{date}.csv` } });
    const dbz = (name: string) => ({ ...customers(), name, source: { format: 'debezium', path: `${name}/{date}.json` } });
    const debeziumTables = ['bad_json', 'no_after', 'truncate', 'absent', 'toast', 'out_of_range'];
    const { dir, config } = folders.setup([
      csv('unknown_op'),
      csv('no_key'),
      csv('no_order'),
      csv('conflict'),
      csv('bad_value'),
      csv('multi_line'),
      ...debeziumTables.map(dbz),
    ]);
    const header = 'op,seq,id,name,salary';
    const at = (table: string) => path.join(dir, table, `${DAY1}.${debeziumTables.includes(table) ? 'json' : 'csv'}`);
    writeLines(at('unknown_op'), [header, 'I,1,1,Ann,100', 'X,2,2,Bob,200']);
    writeLines(at('no_key'), [header, 'I,1,1,Ann,100', 'I,2,,Bob,200']);
    writeLines(at('no_order'), [header, 'I,1,1,Ann,100', 'I,,2,Bob,200']);
    writeLines(at('conflict'), [header, 'I,1,1,Ann,100', 'I,2,2,Bob,200', 'U,2,2,Bob,210']);
    writeLines(at('bad_value'), [header, 'I,1,1,Ann,100', 'I,2,2,Bob,lots']);
    // A quoted field spanning lines: the later events are on the lines below it, not counted by row.
    writeLines(at('multi_line'), [header, 'I,1,1,"Ann\nLee",100', 'I,2,2,Bob,200', 'U,2,2,Bob,210']);
    writeLines(at('bad_json'), [debezium('c', 1, { after: row(1, 'a@b.c') }, false), '{"op":"c",']);
    writeLines(at('no_after'), [debezium('c', 1, { after: row(1, 'a@b.c') }, true), debezium('u', 2, {}, true)]);
    writeLines(at('truncate'), [debezium('c', 1, { after: row(1, 'a@b.c') }, false), JSON.stringify({ op: 't', source: { lsn: 5 }, ts_ms: 1 })]);
    // A field missing from `after` is not a NULL: here a column the connector does not send.
    const withoutUpdatedAt: Partial<ReturnType<typeof row>> = row(2, 'b@b.c');
    delete withoutUpdatedAt.updated_at;
    writeLines(at('absent'), [debezium('c', 1, { after: row(1, 'a@b.c') }, false), debezium('u', 2, { after: withoutUpdatedAt }, true)]);
    // Days since 1970 beyond any date.
    writeLines(at('out_of_range'), [debezium('c', 1, { after: row(1, 'a@b.c') }, false), debezium('c', 2, { after: { ...row(2, 'b@b.c'), created: 99999999999 } }, false)]);
    // An update that left a TOASTed column alone, under REPLICA IDENTITY DEFAULT.
    writeLines(at('toast'), [debezium('c', 1, { after: row(1, 'a@b.c') }, false), debezium('u', 2, { after: { ...row(1, null), email: '__debezium_unavailable_value' } }, false)]);

    const outcome = await runDataset(h, config, DAY1);
    expect(outcome.ok).toBe(false);
    const context = (table: string, line: number, column: string) => `file=${at(table)} line=${line} column=${column}`;
    expect(failedTable(outcome, 'unknown_op')).toContain('event at line 3 has an unknown operation "X" in field "op"; expected one of I, insert, c, r, U, update, u, D, delete, d');
    expect(failedTable(outcome, 'unknown_op')).toContain(context('unknown_op', 3, 'op'));
    expect(failedTable(outcome, 'no_key')).toContain(`event at line 3 has no value for key field "id" (dataset=${config.dataset} table=no_key ${context('no_key', 3, 'id')})`);
    expect(failedTable(outcome, 'no_order')).toContain(`event at line 3 has no ordering value in field "seq"`);
    expect(failedTable(outcome, 'no_order')).toContain(context('no_order', 3, 'seq'));
    expect(failedTable(outcome, 'conflict')).toContain(
      `key (id=2) has two different events with equal ordering values (seq): ${at('conflict')} line 3 and ${at('conflict')} line 4; which one is newer is unknown`,
    );
    expect(failedTable(outcome, 'multi_line')).toContain(`${at('multi_line')} line 4 and ${at('multi_line')} line 5; which one is newer is unknown`);
    expect(failedTable(outcome, 'bad_value')).toContain(`value "lots" in field "salary" does not convert exactly to integer`);
    expect(failedTable(outcome, 'bad_value')).toContain(`line=3 column=salary`);
    expect(failedTable(outcome, 'bad_json')).toContain('event at line 2 is not valid JSON: "{\\"op\\":\\"c\\","');
    expect(failedTable(outcome, 'no_after')).toContain('event at line 2 is a Debezium event with op "u" and no "after" row');
    expect(failedTable(outcome, 'truncate')).toContain('event at line 2 is a truncate event (op "t"); cdcflow does not apply truncates');
    expect(failedTable(outcome, 'absent')).toContain('event at line 2 has no field "updated_at" in its "after" row');
    expect(failedTable(outcome, 'absent')).toContain(context('absent', 2, 'after'));
    expect(failedTable(outcome, 'toast')).toContain(
      'event at line 2 has Debezium\'s placeholder "__debezium_unavailable_value" for field "email": the connector did not have the value',
    );
    expect(failedTable(outcome, 'toast')).toContain(context('toast', 2, 'after'));
    expect(failedTable(outcome, 'out_of_range')).toContain('value "99999999999" in field "created" does not convert exactly to date');
    expect(failedTable(outcome, 'out_of_range')).toContain(context('out_of_range', 2, 'created'));
    for (const table of config.tables) {
      expect(outcome.result?.tables.find((t) => t.table === table.name)?.status).toBe('failed');
      expect(existsSync(path.join(tableRoot(config, table.name), 'current.parquet'))).toBe(false);
    }
  });

  it('a JSON number a double does not hold exactly is refused in JSON change records and Debezium events; a JSON string keeps every digit', async () => {
    // DuckDB reads such a number as a double: the old runs stored 1234567890.1234567 and succeeded.
    const amount = { name: 'amount', type: 'decimal(38,9)' };
    const json = (name: string) => ({ ...employees, name, columns: [...employees.columns, amount], source: { format: 'json', path: `${name}/{date}.json` } });
    const dbz = (name: string) => customers({ name, columns: [...customers().columns, amount], source: { format: 'debezium', path: `${name}/{date}.json` } });
    const { dir, config } = folders.setup([json('json_bad'), dbz('dbz_bad'), dbz('dbz_ok')]);
    const at = (table: string) => path.join(dir, table, `${DAY1}.json`);
    /** The line with the placeholder string "NUMBER" replaced by `text` as written: JSON.stringify cannot write such numbers. */
    const withNumber = (line: string, text: string) => line.replace('"NUMBER"', text);
    const event = (seq: number, text: string) => withNumber(JSON.stringify({ op: 'I', seq, id: seq, name: 'Ann', salary: 100, amount: 'NUMBER' }), text);
    const change = (lsn: number, text: string) => withNumber(debezium('c', lsn, { after: { ...row(lsn, 'a@b.c'), amount: 'NUMBER' } }, false), text);
    writeLines(at('json_bad'), [event(1, '1234567890.12'), event(2, '1234567890.123456789')]);
    writeLines(at('dbz_bad'), [change(1, '1234567890.12'), change(2, '1234567890.123456789')]);
    // A whole number beyond 64 bits is kept as written, so it is exact.
    writeLines(at('dbz_ok'), [change(1, '12.5'), change(2, '"1234567890.123456789"'), change(3, '123456789012345678901')]);

    const outcome = await runDataset(h, config, DAY1);
    expect(outcome.ok).toBe(false);
    expect(failedTable(outcome, 'json_bad')).toContain('value "1234567890.1234567" in field "amount" does not convert exactly to decimal(38,9)');
    expect(failedTable(outcome, 'json_bad')).toContain('send it as a JSON string');
    expect(failedTable(outcome, 'json_bad')).toContain(`file=${at('json_bad')} line=2 column=amount`);
    expect(failedTable(outcome, 'dbz_bad')).toContain('event at line 2 has a JSON number in field "amount" that is read as a double, which holds 15 significant digits exactly');
    expect(failedTable(outcome, 'dbz_bad')).toContain(`file=${at('dbz_bad')} line=2 column=after`);
    for (const table of ['json_bad', 'dbz_bad']) expect(existsSync(path.join(tableRoot(config, table), 'current.parquet'))).toBe(false);
    expect((await current(config, 'dbz_ok')).map((r) => r.amount)).toEqual(['12.500000000', '1234567890.123456789', '123456789012345678901.000000000']);
  });

  it('a formatted column orders the events (orderBy names it) and a bad value elsewhere is named as it is', async () => {
    // Before, the ordering copy of changed_at was cast without its format (every event failed, naming changed_at), and
    // a bad salary was reported as changed_at's first value, checked as ISO 8601.
    const dated = {
      ...employees,
      name: 'dated',
      columns: [
        { name: 'name', type: 'varchar' },
        { name: 'changed_at', type: 'timestamp', format: '%d/%m/%Y %H:%M' },
        { name: 'salary', type: 'integer' },
      ],
      orderBy: ['changed_at'],
      source: { format: 'csv', path: 'dated/{date}.csv' },
    };
    const { dir, config } = folders.setup([dated, { ...dated, name: 'dated_bad', source: { format: 'csv', path: 'dated_bad/{date}.csv' } }]);
    const header = 'op,id,name,changed_at,salary';
    // The newer event of key 2 comes first, and is earlier as text.
    writeLines(path.join(dir, 'dated', `${DAY1}.csv`), [header, 'I,1,Ann,01/01/2024 09:00,100', 'U,2,Bob B.,02/01/2024 08:00,210', 'I,2,Bob,31/12/2023 23:00,200']);
    writeLines(path.join(dir, 'dated_bad', `${DAY1}.csv`), [header, 'I,1,Ann,01/01/2024 09:00,100', 'I,2,Bob,02/01/2024 08:00,lots']);
    const outcome = await runDataset(h, config, DAY1);
    expect(tableResult(outcome, 'dated').counts).toEqual({ I: 2, U: 0, D: 0, X: 0, N: 0 });
    expect(await current(config, 'dated')).toEqual([
      { id: 1, name: 'Ann', changed_at: '2024-01-01 09:00:00', salary: 100, OPERATION: 'I', EFF_START_DATE: DAY1 },
      { id: 2, name: 'Bob B.', changed_at: '2024-01-02 08:00:00', salary: 210, OPERATION: 'I', EFF_START_DATE: DAY1 },
    ]);
    expect(failedTable(outcome, 'dated_bad')).toContain('value "lots" in field "salary" does not convert exactly to integer');
    expect(failedTable(outcome, 'dated_bad')).toContain('line=3 column=salary');
  });

  it('generated change records (duplicates, stale copies, shuffled) give the counts the generator promises', async () => {
    const out = tempDir('cdcflow-chg-gen-');
    const gen = await generateChanges({ outDir: out, initial: 3000, events: 2000, touched: 1000, seed: 5 });
    const dataset = uniqueDataset('chggen');
    const at = (day: string) => renameDataset(loadConfig(gen.files.config, { inputDir: path.join(out, day) }), dataset);
    try {
      expect(tableResult(succeeded(await runDataset(h, at('day1'), gen.dates[0])), 'events').counts).toEqual({ I: 3000, U: 0, D: 0, X: 0, N: 0 });
      const day2 = tableResult(succeeded(await runDataset(h, at('day2'), gen.dates[1])), 'events');
      expect(day2.counts).toEqual(gen.expected.counts);
      expect(day2.changes).toEqual(gen.expected.changes);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

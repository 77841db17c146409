/**
 * Change detection through the real workflow (Temporal dev server + DuckDB): delta mode, ignored
 * columns, composite keys, NULLs and the hash encoding, type casting, bad data (cast failures,
 * duplicate and null keys, missing columns) leaving the committed state untouched, one failing
 * table among others, --tables, and JSON/Parquet sources.
 *
 * Each test has its own temp folder (config, sources, warehouse) and its own dataset name.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { StageName } from '../../src/activities/stage-runner';
import type { DatasetConfig } from '../../src/config/types';
import { datasetFolders, failedTable, type Harness, readRows, runDataset, startHarness, succeeded, tableResult, writeLines } from '../support/harness';
import { withTimeout } from '../support/worker-process';

const DAY1 = '2024-01-01';
const DAY2 = '2024-01-02';
const DAY3 = '2024-01-03';

describe('change detection', () => {
  let h: Harness;
  const folders = datasetFolders('cd');
  const { setup } = folders;
  /** Every stage attempt the worker made, in order (reset by the tests that look at it). */
  let attempts: { stage: StageName; attempt: number }[] = [];

  beforeAll(async () => {
    h = await startHarness({ beforeStage: (stage, attempt) => void attempts.push({ stage, attempt }) });
  });
  afterAll(async () => {
    await h?.stop();
    folders.removeAll();
  });



  const csvTable = (name: string, keys: object[], columns: object[], more: object = {}) => ({
    name,
    keys,
    columns,
    source: { format: 'csv', path: `${name}/{date}.csv` },
    ...more,
  });

  const tableRoot = (config: DatasetConfig, table: string) => path.join(config.warehouse, config.dataset, table);
  const currentOf = (config: DatasetConfig, table: string) => path.join(tableRoot(config, table), 'current.parquet');
  const historyOf = (config: DatasetConfig, table: string, date: string) =>
    path.join(tableRoot(config, table), 'history', `eff_start_date=${date}`, 'data.parquet');



  it('delta mode: absent keys become X (values and date kept, not in history), changed U, new I', async () => {
    const { dir, config } = setup([csvTable('t', [{ name: 'id', type: 'integer' }], [{ name: 'v', type: 'varchar' }], { mode: 'delta' })]);
    expect(config.tables[0].mode).toBe('delta');
    writeLines(path.join(dir, 't', `${DAY1}.csv`), ['id,v', '1,a', '2,b', '3,c', '4,d']);
    writeLines(path.join(dir, 't', `${DAY2}.csv`), ['id,v', '1,a', '2,B', '5,e']);
    writeLines(path.join(dir, 't', `${DAY3}.csv`), ['id,v', '3,c', '4,D']);

    expect(tableResult(succeeded(await runDataset(h, config, DAY1)), 't').counts).toEqual({ I: 4, U: 0, D: 0, X: 0, N: 0 });

    const day2 = tableResult(succeeded(await runDataset(h, config, DAY2)), 't');
    expect(day2.counts).toEqual({ I: 1, U: 1, D: 0, X: 2, N: 1 });
    expect(day2.currentRows).toBe(5);
    expect(day2.historyRows).toBe(2);
    expect(await readRows(h.engine, currentOf(config, 't'), 'id')).toEqual([
      { id: 1, v: 'a', OPERATION: 'N', EFF_START_DATE: DAY1 },
      { id: 2, v: 'B', OPERATION: 'U', EFF_START_DATE: DAY2 },
      { id: 3, v: 'c', OPERATION: 'X', EFF_START_DATE: DAY1 },
      { id: 4, v: 'd', OPERATION: 'X', EFF_START_DATE: DAY1 },
      { id: 5, v: 'e', OPERATION: 'I', EFF_START_DATE: DAY2 },
    ]);
    expect(await readRows(h.engine, historyOf(config, 't', DAY2), 'id')).toEqual([
      { id: 2, v: 'B', OPERATION: 'U', eff_start_date: DAY2 },
      { id: 5, v: 'e', OPERATION: 'I', eff_start_date: DAY2 },
    ]);

    // Day 3: X rows that come back unchanged are N with their first date; X rows stay X across days.
    const day3 = tableResult(succeeded(await runDataset(h, config, DAY3)), 't');
    expect(day3.counts).toEqual({ I: 0, U: 1, D: 0, X: 3, N: 1 });
    expect(await readRows(h.engine, currentOf(config, 't'), 'id')).toEqual([
      { id: 1, v: 'a', OPERATION: 'X', EFF_START_DATE: DAY1 },
      { id: 2, v: 'B', OPERATION: 'X', EFF_START_DATE: DAY2 },
      { id: 3, v: 'c', OPERATION: 'N', EFF_START_DATE: DAY1 },
      { id: 4, v: 'D', OPERATION: 'U', EFF_START_DATE: DAY3 },
      { id: 5, v: 'e', OPERATION: 'X', EFF_START_DATE: DAY2 },
    ]);
    expect(await readRows(h.engine, historyOf(config, 't', DAY3), 'id')).toEqual([
      { id: 4, v: 'D', OPERATION: 'U', eff_start_date: DAY3 },
    ]);
  });

  it('delta mode: a dated batch between the base and the run date that was never committed is refused, not left out', async () => {
    const keys = [{ name: 'id', type: 'integer' }];
    const columns = [{ name: 'v', type: 'varchar' }];
    const { dir, config } = setup([
      csvTable('t', keys, columns, { mode: 'delta' }),
      { name: 'g', keys, columns, mode: 'delta', source: { format: 'csv', path: 'g/{date}/part-*.csv' } },
      csvTable('f', keys, columns),
      csvTable('late', keys, columns, { mode: 'delta' }),
    ]);
    // Day 2's batch of "late" arrives only once day 3 is committed.
    for (const day of [DAY1, DAY3]) writeLines(path.join(dir, 'late', `${day}.csv`), ['id,v', `1,${day}`]);
    for (const name of ['t', 'f']) {
      writeLines(path.join(dir, name, `${DAY1}.csv`), ['id,v', '1,a', '2,b']);
      writeLines(path.join(dir, name, `${DAY2}.csv`), ['id,v', '1,a', '2,B']);
      writeLines(path.join(dir, name, `${DAY3}.csv`), ['id,v', '1,A', '2,B']);
    }
    writeLines(path.join(dir, 'g', DAY1, 'part-1.csv'), ['id,v', '1,a']);
    writeLines(path.join(dir, 'g', DAY2, 'part-1.csv'), ['id,v', '1,b']);
    writeLines(path.join(dir, 'g', DAY3, 'part-1.csv'), ['id,v', '2,c']);
    writeLines(path.join(dir, 'g', '2024-01-0x', 'part-1.csv'), ['id,v', '9,z']);
    succeeded(await runDataset(h, config, DAY1));
    const before = readFileSync(currentOf(config, 't'));

    // Day 2 was skipped (a failed run, a schedule's skip): day 3 would build on day 1 without day 2's changes.
    attempts = [];
    const skipped = await runDataset(h, config, DAY3);
    expect(skipped.ok).toBe(false);
    const error = failedTable(skipped, 't');
    expect(error).toContain(`the source has a batch for ${DAY2} (${path.join(dir, 't', `${DAY2}.csv`)})`);
    expect(error).toContain(`Run ${DAY2} first (cdcflow run --date ${DAY2})`);
    expect(attempts.every((a) => a.attempt === 1)).toBe(true);
    expect(failedTable(skipped, 'g')).toContain(`the source has a batch for ${DAY2} (${path.join(dir, 'g', DAY2, 'part-1.csv')})`);
    // A full snapshot needs no earlier date.
    expect(tableResult(skipped, 'f').baseDate).toBe(DAY1);
    expect(readFileSync(currentOf(config, 't')).equals(before)).toBe(true);

    succeeded(await runDataset(h, config, DAY2, ['t', 'g']));
    const day3 = succeeded(await runDataset(h, config, DAY3, ['t', 'g']));
    expect(tableResult(day3, 't').baseDate).toBe(DAY2);
    expect(tableResult(day3, 't').counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 1 });
    expect(await readRows(h.engine, currentOf(config, 'g'), 'id')).toEqual([
      { id: 1, v: 'b', OPERATION: 'X', EFF_START_DATE: DAY2 },
      { id: 2, v: 'c', OPERATION: 'I', EFF_START_DATE: DAY3 },
    ]);

    // A batch that arrived after a later date was committed cannot be run first: the old message said to, and that run was
    // refused as older than the latest committed date.
    expect(tableResult(skipped, 'late').baseDate).toBe(DAY1);
    writeLines(path.join(dir, 'late', `${DAY2}.csv`), ['id,v', '1,late']);
    const late = failedTable(await runDataset(h, config, DAY3, ['late']), 'late');
    expect(late).toContain(`the source has a batch for ${DAY2} (${path.join(dir, 'late', `${DAY2}.csv`)})`);
    expect(late).toContain(
      `It can no longer be run, since ${DAY3} is committed: move its files out of the source path to run ${DAY3} again, ` +
        'or run the table from its first date into a new warehouse to apply them',
    );
    expect(late).not.toContain(`Run ${DAY2} first`);
  });

  it('delta mode: a first date with earlier dated batches is refused: they would be left out for good', async () => {
    const keys = [{ name: 'id', type: 'integer' }];
    const { dir, config } = setup([csvTable('d', keys, [{ name: 'v', type: 'varchar' }], { mode: 'delta' })]);
    writeLines(path.join(dir, 'd', `${DAY1}.csv`), ['id,v', '1,a', '2,b']);
    writeLines(path.join(dir, 'd', `${DAY2}.csv`), ['id,v', '2,B']);
    // Before this release day 2 committed as the table's first date (with exit 0), and day 1 could never be run.
    const refused = await runDataset(h, config, DAY2);
    expect(refused.ok).toBe(false);
    expect(failedTable(refused, 'd')).toContain(`the source has a batch for ${DAY1} (${path.join(dir, 'd', `${DAY1}.csv`)}), before ${DAY2}, and the table has no commit before it`);
    expect(failedTable(refused, 'd')).toContain(`Run ${DAY1} first (cdcflow run --date ${DAY1})`);
    expect(existsSync(currentOf(config, 'd'))).toBe(false);
    succeeded(await runDataset(h, config, DAY1));
    expect(tableResult(succeeded(await runDataset(h, config, DAY2)), 'd').counts).toEqual({ I: 0, U: 1, D: 0, X: 1, N: 0 });
  });

  it('ignored columns: a change only there is N (date kept, no history row) and takes the new value; a compared change is U', async () => {
    const { dir, config } = setup([
      csvTable(
        't',
        [{ name: 'id', type: 'integer' }],
        [
          { name: 'name', type: 'varchar' },
          { name: 'score', type: 'integer' },
          { name: 'updated_at', type: 'varchar' },
        ],
        // Names are case-insensitive, so the ignore list may spell the column differently.
        { ignore: ['UPDATED_AT'] },
      ),
    ]);
    writeLines(path.join(dir, 't', `${DAY1}.csv`), ['id,name,score,updated_at', '1,ann,10,t1', '2,bob,20,t1', '3,cy,30,t1']);
    writeLines(path.join(dir, 't', `${DAY2}.csv`), ['id,name,score,updated_at', '1,ann,10,t2', '2,bob,21,t2', '3,cy,30,t1']);

    expect(tableResult(succeeded(await runDataset(h, config, DAY1)), 't').counts).toEqual({ I: 3, U: 0, D: 0, X: 0, N: 0 });
    const day2 = tableResult(succeeded(await runDataset(h, config, DAY2)), 't');
    expect(day2.counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 2 });
    expect(await readRows(h.engine, currentOf(config, 't'), 'id')).toEqual([
      { id: 1, name: 'ann', score: 10, updated_at: 't2', OPERATION: 'N', EFF_START_DATE: DAY1 },
      { id: 2, name: 'bob', score: 21, updated_at: 't2', OPERATION: 'U', EFF_START_DATE: DAY2 },
      { id: 3, name: 'cy', score: 30, updated_at: 't1', OPERATION: 'N', EFF_START_DATE: DAY1 },
    ]);
    expect(await readRows(h.engine, historyOf(config, 't', DAY2), 'id')).toEqual([
      { id: 2, name: 'bob', score: 21, updated_at: 't2', OPERATION: 'U', eff_start_date: DAY2 },
    ]);

    // A later delete carries the last values the source sent, ignored ones included.
    writeLines(path.join(dir, 't', `${DAY3}.csv`), ['id,name,score,updated_at', '2,bob,21,t2', '3,cy,30,t1']);
    succeeded(await runDataset(h, config, DAY3));
    expect(await readRows(h.engine, historyOf(config, 't', DAY3), 'id')).toEqual([
      { id: 1, name: 'ann', score: 10, updated_at: 't2', OPERATION: 'D', eff_start_date: DAY3 },
    ]);
  });

  it('composite keys: rows sharing a key part are different keys; a key-part change is D + I', async () => {
    const { dir, config } = setup([
      csvTable(
        't',
        [
          { name: 'id', type: 'integer' },
          { name: 'code', type: 'varchar' },
          { name: 'valid_from', type: 'date' },
        ],
        [{ name: 'v', type: 'varchar' }],
      ),
    ]);
    const header = 'id,code,valid_from,v';
    writeLines(path.join(dir, 't', `${DAY1}.csv`), [
      header,
      '1,a,2024-01-01,x1',
      '1,b,2024-01-01,x2', // differs from row 1 in code only
      '1,a,2024-02-01,x3', // differs from row 1 in valid_from only
      '2,a,2024-01-01,x4', // differs from row 1 in id only
      '12,a,2024-01-01,x5', // (12,'a') and (1,'2a') would collide under naive concatenation
      '1,2a,2024-01-01,x6',
    ]);
    writeLines(path.join(dir, 't', `${DAY2}.csv`), [
      header,
      '1,a,2024-01-01,x1',
      '1,b,2024-01-01,x2-new',
      '1,a,2024-02-02,x3', // key part changed: the old key is deleted, the new one inserted
      '2,a,2024-01-01,x4',
      '12,a,2024-01-01,x5',
      '1,2a,2024-01-01,x6',
    ]);

    expect(tableResult(succeeded(await runDataset(h, config, DAY1)), 't').counts).toEqual({ I: 6, U: 0, D: 0, X: 0, N: 0 });
    const day2 = tableResult(succeeded(await runDataset(h, config, DAY2)), 't');
    expect(day2.counts).toEqual({ I: 1, U: 1, D: 1, X: 0, N: 4 });
    expect(day2.currentRows).toBe(6);
    expect(await readRows(h.engine, currentOf(config, 't'), 'id, code, valid_from')).toEqual([
      { id: 1, code: '2a', valid_from: '2024-01-01', v: 'x6', OPERATION: 'N', EFF_START_DATE: DAY1 },
      { id: 1, code: 'a', valid_from: '2024-01-01', v: 'x1', OPERATION: 'N', EFF_START_DATE: DAY1 },
      { id: 1, code: 'a', valid_from: '2024-02-02', v: 'x3', OPERATION: 'I', EFF_START_DATE: DAY2 },
      { id: 1, code: 'b', valid_from: '2024-01-01', v: 'x2-new', OPERATION: 'U', EFF_START_DATE: DAY2 },
      { id: 2, code: 'a', valid_from: '2024-01-01', v: 'x4', OPERATION: 'N', EFF_START_DATE: DAY1 },
      { id: 12, code: 'a', valid_from: '2024-01-01', v: 'x5', OPERATION: 'N', EFF_START_DATE: DAY1 },
    ]);
    // D carries the last known values.
    expect(await readRows(h.engine, historyOf(config, 't', DAY2), 'OPERATION')).toEqual([
      { id: 1, code: 'a', valid_from: '2024-02-01', v: 'x3', OPERATION: 'D', eff_start_date: DAY2 },
      { id: 1, code: 'a', valid_from: '2024-02-02', v: 'x3', OPERATION: 'I', eff_start_date: DAY2 },
      { id: 1, code: 'b', valid_from: '2024-01-01', v: 'x2-new', OPERATION: 'U', eff_start_date: DAY2 },
    ]);
  });

  it("NULLs: NULL<->value is U, NULL->NULL is N, text 'NULL' is not NULL, ('a','bc') vs ('ab','c') is U", async () => {
    const { dir, config } = setup([
      csvTable(
        't',
        [{ name: 'k', type: 'integer' }],
        [
          { name: 'v', type: 'varchar' },
          { name: 'a', type: 'varchar' },
          { name: 'b', type: 'varchar' },
          { name: 'n', type: 'integer' },
        ],
        { source: { format: 'csv', path: 't/{date}.csv', csv: { nullString: '\\N' } } },
      ),
    ]);
    expect(config.tables[0].source).toMatchObject({ csv: { nullString: '\\N' } });
    const header = 'k,v,a,b,n';
    writeLines(path.join(dir, 't', `${DAY1}.csv`), [
      header,
      '1,\\N,p,q,1',
      '2,x,p,q,1',
      '3,\\N,p,q,1',
      '4,NULL,p,q,1',
      '5,\\N,p,q,1',
      '6,NULL,p,q,1',
      '7,z,a,bc,1',
      '8,z,p,q,\\N',
      '9,,p,q,1', // empty text, not NULL (the null string is \N)
    ]);
    writeLines(path.join(dir, 't', `${DAY2}.csv`), [
      header,
      '1,x,p,q,1', // NULL -> value: U
      '2,\\N,p,q,1', // value -> NULL: U
      '3,\\N,p,q,1', // NULL -> NULL: N
      "4,\\N,p,q,1", // 'NULL' -> NULL: U
      '5,NULL,p,q,1', // NULL -> 'NULL': U
      '6,NULL,p,q,1', // 'NULL' -> 'NULL': N
      '7,z,ab,c,1', // ('a','bc') -> ('ab','c'): U
      '8,z,p,q,0', // integer NULL -> 0: U
      '9,\\N,p,q,1', // '' -> NULL: U
    ]);

    expect(tableResult(succeeded(await runDataset(h, config, DAY1)), 't').counts).toEqual({ I: 9, U: 0, D: 0, X: 0, N: 0 });
    const day1 = await readRows(h.engine, currentOf(config, 't'), 'k');
    expect(day1.map((r) => r.v)).toEqual([null, 'x', null, 'NULL', null, 'NULL', 'z', 'z', '']);
    expect(day1[7].n).toBeNull();

    const day2 = tableResult(succeeded(await runDataset(h, config, DAY2)), 't');
    expect(day2.counts).toEqual({ I: 0, U: 7, D: 0, X: 0, N: 2 });
    const rows = await readRows(h.engine, currentOf(config, 't'), 'k');
    expect(rows.map((r) => [r.k, r.v, r.a, r.b, r.n, r.OPERATION])).toEqual([
      [1, 'x', 'p', 'q', 1, 'U'],
      [2, null, 'p', 'q', 1, 'U'],
      [3, null, 'p', 'q', 1, 'N'],
      [4, null, 'p', 'q', 1, 'U'],
      [5, 'NULL', 'p', 'q', 1, 'U'],
      [6, 'NULL', 'p', 'q', 1, 'N'],
      [7, 'z', 'ab', 'c', 1, 'U'],
      [8, 'z', 'p', 'q', 0, 'U'],
      [9, null, 'p', 'q', 1, 'U'],
    ]);
  });

  it('casts every type to the right Parquet type; 1.50 vs 1.5 is unchanged in decimal and double', async () => {
    const { dir, config } = setup([
      csvTable(
        't',
        [{ name: 'id', type: 'integer' }],
        [
          { name: 's', type: 'varchar' },
          { name: 'i', type: 'integer' },
          { name: 'b', type: 'bigint' },
          { name: 'd', type: 'double' },
          { name: 'm', type: 'decimal(10,2)' },
          { name: 'f', type: 'boolean' },
          { name: 'dt', type: 'date' },
          { name: 'ts', type: 'timestamp' },
        ],
      ),
    ]);
    expect(config.tables[0].columns.find((c) => c.name === 'm')?.type).toBe('decimal(10,2)');
    const header = 'id,s,i,b,d,m,f,dt,ts';
    writeLines(path.join(dir, 't', `${DAY1}.csv`), [
      header,
      '1,hello,42,9007199254740993,2.25,1.50,true,2024-02-29,2024-03-01 12:34:56',
      '2,x,-7,-1,0.1,0.10,false,1999-12-31,1999-12-31 23:59:59.123456',
      '3,y,0,0,2.50,3.00,true,2000-01-01,2000-01-01 00:00:00',
    ]);
    writeLines(path.join(dir, 't', `${DAY2}.csv`), [
      header,
      '1,hello,42,9007199254740993,2.25,1.5,true,2024-02-29,2024-03-01 12:34:56', // decimal 1.50 -> 1.5: N
      '2,x,-7,-1,0.1,0.11,false,1999-12-31,1999-12-31 23:59:59.123456', // decimal 0.10 -> 0.11: U
      '3,y,0,0,2.5,3,true,2000-01-01,2000-01-01 00:00:00', // double 2.50 -> 2.5, decimal 3.00 -> 3: N
    ]);

    expect(tableResult(succeeded(await runDataset(h, config, DAY1)), 't').counts).toEqual({ I: 3, U: 0, D: 0, X: 0, N: 0 });
    const current = currentOf(config, 't');
    const types = await h.engine.withSession((s) =>
      s.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet('${current}')`),
    );
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toMatchObject({
      id: 'INTEGER',
      s: 'VARCHAR',
      i: 'INTEGER',
      b: 'BIGINT',
      d: 'DOUBLE',
      m: 'DECIMAL(10,2)',
      f: 'BOOLEAN',
      dt: 'DATE',
      ts: 'TIMESTAMP',
      OPERATION: 'VARCHAR',
      EFF_START_DATE: 'DATE',
    });
    expect(types.map((t) => t.column_name)).toEqual(['id', 's', 'i', 'b', 'd', 'm', 'f', 'dt', 'ts', 'OPERATION', 'EFF_START_DATE', 'KEY_HASH', 'NONKEY_HASH']);
    // Exact values, read back as text so that nothing is rounded on the way to JS.
    const values = await h.engine.withSession((s) =>
      s.rows(
        `SELECT id, s, i, CAST(b AS VARCHAR) AS b, d, CAST(m AS VARCHAR) AS m, f, CAST(dt AS VARCHAR) AS dt, CAST(ts AS VARCHAR) AS ts ` +
          `FROM read_parquet('${current}') ORDER BY id`,
      ),
    );
    expect(values).toEqual([
      { id: 1, s: 'hello', i: 42, b: '9007199254740993', d: 2.25, m: '1.50', f: true, dt: '2024-02-29', ts: '2024-03-01 12:34:56' },
      { id: 2, s: 'x', i: -7, b: '-1', d: 0.1, m: '0.10', f: false, dt: '1999-12-31', ts: '1999-12-31 23:59:59.123456' },
      { id: 3, s: 'y', i: 0, b: '0', d: 2.5, m: '3.00', f: true, dt: '2000-01-01', ts: '2000-01-01 00:00:00' },
    ]);
    // The history partition holds the same typed columns, without EFF_START_DATE (the Hive partition).
    const historyTypes = await h.engine.withSession((s) =>
      s.rows<{ column_name: string; column_type: string }>(
        `DESCRIBE SELECT * FROM read_parquet('${historyOf(config, 't', DAY1)}', hive_partitioning = false)`,
      ),
    );
    expect(historyTypes.map((t) => `${t.column_name} ${t.column_type}`)).toEqual([
      'id INTEGER',
      's VARCHAR',
      'i INTEGER',
      'b BIGINT',
      'd DOUBLE',
      'm DECIMAL(10,2)',
      'f BOOLEAN',
      'dt DATE',
      'ts TIMESTAMP',
      'OPERATION VARCHAR',
      'KEY_HASH UUID',
      'NONKEY_HASH UUID',
    ]);

    const day2 = tableResult(succeeded(await runDataset(h, config, DAY2)), 't');
    expect(day2.counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 2 });
    const after = await readRows(h.engine, current, 'id');
    expect(after.map((r) => [r.id, r.m, r.OPERATION, r.EFF_START_DATE])).toEqual([
      [1, '1.50', 'N', DAY1],
      [2, '0.11', 'U', DAY2],
      [3, '3.00', 'N', DAY1],
    ]);
  });

  it('a double NaN is no change whatever its sign bit (CSV -nan, a Parquet -NaN), nor -0.0 against 0.0', async () => {
    const keys = [{ name: 'id', type: 'integer' }];
    const columns = [{ name: 'd', type: 'double' }];
    const { dir, config } = setup([
      csvTable('t', keys, columns),
      { name: 'p', keys, columns, source: { format: 'parquet', path: 'p/{date}.parquet' } },
      csvTable('k', [{ name: 'd', type: 'double' }], [{ name: 'v', type: 'varchar' }]),
    ]);
    writeLines(path.join(dir, 't', `${DAY1}.csv`), ['id,d', '1,NaN', '2,0.0', '3,NaN']);
    writeLines(path.join(dir, 't', `${DAY2}.csv`), ['id,d', '1,-nan', '2,-0.0', '3,1.5']);
    // DuckDB's -NaN has its sign bit set, as the NaN x86 computes for 0/0.
    mkdirSync(path.join(dir, 'p'));
    const parquetDay = (date: string, values: string) =>
      h.engine.withSession((s) => s.run(`COPY (SELECT * FROM (VALUES ${values}) v(id, d)) TO '${path.join(dir, 'p', `${date}.parquet`)}' (FORMAT parquet)`));
    await parquetDay(DAY1, `(1, 'nan'::DOUBLE), (2, 0.0::DOUBLE)`);
    await parquetDay(DAY2, `(1, -('nan'::DOUBLE)), (2, -0.0::DOUBLE)`);
    // Keys alike but for a NaN's sign are one key.
    writeLines(path.join(dir, 'k', `${DAY1}.csv`), ['d,v', 'NaN,a', '-nan,b']);

    succeeded(await runDataset(h, config, DAY1, ['t', 'p']));
    const day2 = succeeded(await runDataset(h, config, DAY2, ['t', 'p']));
    expect(tableResult(day2, 't').counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 2 });
    expect(tableResult(day2, 'p').counts).toEqual({ I: 0, U: 0, D: 0, X: 0, N: 2 });
    expect((await readRows(h.engine, currentOf(config, 't'), 'id')).map((r) => [r.id, r.OPERATION, r.EFF_START_DATE])).toEqual([
      [1, 'N', DAY1],
      [2, 'N', DAY1],
      [3, 'U', DAY2],
    ]);
    expect(failedTable(await runDataset(h, config, DAY1, ['k']), 'k')).toContain('duplicate key (d=');
  });

  it('date and timestamp columns with a format read text written that way; a value not in it fails naming the format', async () => {
    const { dir, config } = setup([
      csvTable('visits', [{ name: 'day', type: 'date', format: '%d/%m/%Y' }], [
        { name: 'at', type: 'timestamp', format: '%m/%d/%Y %I:%M %p' },
        { name: 'seen', type: 'timestamptz', format: '%Y-%m-%d %H:%M %z' },
      ]),
    ]);
    writeLines(path.join(dir, 'visits', `${DAY1}.csv`), ['day,at,seen', '02/01/2024,01/02/2024 01:30 PM,2024-01-02 10:00 +0200', '31/12/2023,12/31/2023 11:59 AM,2024-01-02 10:00 +0000']);
    // Day 2: the same instants written another way (offset), and one more row.
    writeLines(path.join(dir, 'visits', `${DAY2}.csv`), [
      'day,at,seen',
      '02/01/2024,01/02/2024 01:30 PM,2024-01-02 09:00 +0100',
      '31/12/2023,12/31/2023 11:59 AM,2024-01-02 10:00 +0000',
      '03/01/2024,01/03/2024 12:00 AM,2024-01-03 00:00 +0000',
    ]);
    succeeded(await runDataset(h, config, DAY1));
    expect(tableResult(succeeded(await runDataset(h, config, DAY2)), 'visits').counts).toEqual({ I: 1, U: 0, D: 0, X: 0, N: 2 });
    expect(await readRows(h.engine, currentOf(config, 'visits'), 'day', ['KEY_HASH', 'NONKEY_HASH', 'OPERATION', 'EFF_START_DATE'])).toEqual([
      { day: '2023-12-31', at: '2023-12-31 11:59:00', seen: '2024-01-02 10:00:00+00' },
      { day: '2024-01-02', at: '2024-01-02 13:30:00', seen: '2024-01-02 08:00:00+00' },
      { day: '2024-01-03', at: '2024-01-03 00:00:00', seen: '2024-01-03 00:00:00+00' },
    ]);

    writeLines(path.join(dir, 'visits', `${DAY3}.csv`), ['day,at,seen', '02/01/2024,2024-01-02 13:30:00,2024-01-02 10:00 +0200']);
    expect(failedTable(await runDataset(h, config, DAY3), 'visits')).toContain(
      'value "2024-01-02 13:30:00" in column "at" does not convert exactly to timestamp in format %m/%d/%Y %I:%M %p',
    );
  });

  it('timestamptz columns with a timeZone take text without an offset as wall-clock times there; a time in the gap fails', async () => {
    // Before, text without an offset was taken as UTC: each instant came out shifted by the zone's offset.
    const { dir, config } = setup([
      csvTable('clock', [{ name: 'id', type: 'integer' }], [
        { name: 'at', type: 'timestamptz', timeZone: 'Europe/Berlin' },
        { name: 'logged', type: 'timestamptz', format: '%d.%m.%Y %H:%M', timeZone: 'Europe/Berlin' },
      ]),
    ]);
    writeLines(path.join(dir, 'clock', `${DAY1}.csv`), [
      'id,at,logged',
      '1,2024-01-15 10:00:00,15.01.2024 10:00', // winter, UTC+1
      '2,2024-07-15 10:00:00,15.07.2024 10:00', // summer, UTC+2
      '3,2024-07-15 10:00:00+05,15.01.2024 10:00', // an offset is kept
      '4,2024-10-27 02:30:00,27.10.2024 02:30', // the fall-back hour, which happens twice: the later (UTC+1)
    ]);
    succeeded(await runDataset(h, config, DAY1));
    expect(await readRows(h.engine, currentOf(config, 'clock'), 'id', ['KEY_HASH', 'NONKEY_HASH', 'OPERATION', 'EFF_START_DATE'])).toEqual([
      { id: 1, at: '2024-01-15 09:00:00+00', logged: '2024-01-15 09:00:00+00' },
      { id: 2, at: '2024-07-15 08:00:00+00', logged: '2024-07-15 08:00:00+00' },
      { id: 3, at: '2024-07-15 05:00:00+00', logged: '2024-01-15 09:00:00+00' },
      { id: 4, at: '2024-10-27 01:30:00+00', logged: '2024-10-27 01:30:00+00' },
    ]);

    // 2024-03-31 02:30 never happened in Berlin (the clocks went from 02:00 to 03:00).
    writeLines(path.join(dir, 'clock', `${DAY2}.csv`), ['id,at,logged', '1,2024-03-31 02:30:00,15.01.2024 10:00']);
    expect(failedTable(await runDataset(h, config, DAY2), 'clock')).toContain(
      'value "2024-03-31 02:30:00" in column "at" does not convert exactly to timestamptz in time zone Europe/Berlin',
    );
    writeLines(path.join(dir, 'clock', `${DAY3}.csv`), ['id,at,logged', '1,2024-01-15 10:00:00,31.03.2024 02:30']);
    expect(failedTable(await runDataset(h, config, DAY3), 'clock')).toContain(
      'value "31.03.2024 02:30" in column "logged" does not convert exactly to timestamptz in format %d.%m.%Y %H:%M in time zone Europe/Berlin',
    );
  });

  it('a duplicate formatted key is named with its rows, at once', async () => {
    // Before, finding the rows cast the key's text without its format: a Conversion Error, retried for minutes.
    const { dir, config } = setup([csvTable('days', [{ name: 'day', type: 'date', format: '%d/%m/%Y' }], [{ name: 'v', type: 'varchar' }])]);
    const file = path.join(dir, 'days', `${DAY1}.csv`);
    writeLines(file, ['day,v', '02/01/2024,a', '03/01/2024,b', '02/01/2024,c']);
    attempts = [];
    const outcome = await withTimeout(runDataset(h, config, DAY1), 30_000, () => 'the hash stage was retried');
    expect(failedTable(outcome, 'days')).toContain(`duplicate key (day=2024-01-02) in the batch (${file} row 1 and ${file} row 3)`);
    expect(attempts.filter((a) => a.stage === 'hash')).toEqual([{ stage: 'hash', attempt: 1 }]);
  });

  it('JSON strings are text: a date in a format is read in it, a varchar keeps the text sent', async () => {
    // DuckDB took "02-01-2024" for a date, day first (2024-01-02, although the format says month first), and
    // "2024-02-01T10:00:00" for a timestamp, which a varchar stored as 2024-02-01 10:00:00.
    const { dir, config } = setup([
      {
        name: 'j',
        keys: [{ name: 'day', type: 'date', format: '%m-%d-%Y' }],
        columns: [
          { name: 'note', type: 'varchar' },
          { name: 'at', type: 'timestamp' },
        ],
        source: { format: 'json', path: 'j/{date}.json' },
      },
    ]);
    writeLines(path.join(dir, 'j', `${DAY1}.json`), [
      JSON.stringify({ day: '02-01-2024', note: '2024-02-01T10:00:00', at: '2024-02-01T10:00:00' }),
      JSON.stringify({ day: '12-31-2023', note: '2024-03-01T11:00:00', at: '2024-02-01 10:00:00.5' }),
    ]);
    expect(tableResult(succeeded(await runDataset(h, config, DAY1)), 'j').counts).toMatchObject({ I: 2 });
    expect(await readRows(h.engine, currentOf(config, 'j'), 'day', ['KEY_HASH', 'NONKEY_HASH', 'OPERATION', 'EFF_START_DATE'])).toEqual([
      { day: '2023-12-31', note: '2024-03-01T11:00:00', at: '2024-02-01 10:00:00.5' },
      { day: '2024-02-01', note: '2024-02-01T10:00:00', at: '2024-02-01 10:00:00' },
    ]);
  });

  it('a value that does not cast fails the table once, naming where, and leaves the committed state as it was', async () => {
    const { dir, config } = setup([
      csvTable('orders', [{ name: 'id', type: 'integer' }], [
        { name: 'qty', type: 'integer' },
        { name: 'note', type: 'varchar' },
      ]),
    ]);
    writeLines(path.join(dir, 'orders', `${DAY1}.csv`), ['id,qty,note', '1,5,a', '2,6,b']);
    const bad = path.join(dir, 'orders', `${DAY2}.csv`);
    writeLines(bad, ['id,qty,note', '1,5,a', '2,6,b', '3,seven,c', '4,8,d']);

    succeeded(await runDataset(h, config, DAY1));
    const current = currentOf(config, 'orders');
    const before = readFileSync(current);

    attempts = [];
    const started = Date.now();
    const out = await runDataset(h, config, DAY2);
    const elapsed = Date.now() - started;
    expect(out.ok).toBe(false);
    expect(out.ok ? '' : out.type).toBe('TableRunsFailed');
    const error = failedTable(out, 'orders');
    expect(error).toContain('value "seven" in column "qty" does not convert exactly to integer');
    expect(error).toContain(`dataset=${config.dataset}`);
    expect(error).toContain('table=orders');
    expect(error).toContain(`file=${bad}`);
    expect(error).toMatch(/\brow=3\b/); // the third data row ...
    expect(error).toMatch(/\bline=4\b/); // ... is line 4 of the file (after the header)
    expect(error).toContain('column=qty');
    expect(error).toContain('value=seven');
    // Non-retryable: the hash stage ran exactly once, and the run ended without retry back-off.
    expect(attempts.filter((a) => a.stage === 'hash')).toEqual([{ stage: 'hash', attempt: 1 }]);
    expect(attempts.map((a) => a.stage)).toEqual(['plan', 'hash']);
    expect(elapsed).toBeLessThan(10_000);

    expect(readFileSync(current).equals(before)).toBe(true);
    expect(existsSync(path.dirname(historyOf(config, 'orders', DAY2)))).toBe(false);
    expect(existsSync(path.join(tableRoot(config, 'orders'), 'snapshots', `business_date=${DAY2}`, '_commit.json'))).toBe(false);

    // Once the data is fixed, the same date runs against day 1.
    writeLines(bad, ['id,qty,note', '1,5,a', '2,6,b', '3,7,c']);
    const fixed = tableResult(succeeded(await runDataset(h, config, DAY2)), 'orders');
    expect(fixed.counts).toEqual({ I: 1, U: 0, D: 0, X: 0, N: 2 });
    expect(fixed.baseDate).toBe(DAY1);
  });

  it('duplicate and null keys fail without retries, naming keys, rows and file; the committed state stays', async () => {
    const { dir, config } = setup([
      csvTable('t', [
        { name: 'id', type: 'integer' },
        { name: 'code', type: 'varchar' },
      ], [{ name: 'v', type: 'varchar' }]),
    ]);
    writeLines(path.join(dir, 't', `${DAY1}.csv`), ['id,code,v', '1,a,x', '2,b,y']);
    succeeded(await runDataset(h, config, DAY1));
    const current = currentOf(config, 't');
    const before = readFileSync(current);
    const day2 = path.join(dir, 't', `${DAY2}.csv`);

    writeLines(day2, ['id,code,v', '1,a,x', '2,b,y', '1,a,z', '3,c,w']);
    attempts = [];
    const dup = await runDataset(h, config, DAY2);
    expect(dup.ok).toBe(false);
    const dupError = failedTable(dup, 't');
    expect(dupError).toContain('duplicate key (id=1, code=a)');
    expect(dupError).toContain(`${day2} row 1 and ${day2} row 3`);
    expect(dupError).toContain(`file=${day2}`);
    expect(attempts.filter((a) => a.stage === 'hash')).toEqual([{ stage: 'hash', attempt: 1 }]);

    writeLines(day2, ['id,code,v', '1,a,x', '2,b,y', ',c,w']);
    attempts = [];
    const nullKey = await runDataset(h, config, DAY2);
    expect(nullKey.ok).toBe(false);
    const nullError = failedTable(nullKey, 't');
    expect(nullError).toContain('key column "id" is NULL');
    expect(nullError).toContain('column=id');
    expect(nullError).toMatch(/\brow=3\b/);
    expect(nullError).toContain(`file=${day2}`);
    expect(attempts.filter((a) => a.stage === 'hash')).toEqual([{ stage: 'hash', attempt: 1 }]);

    writeLines(day2, ['id,code,v', '1,a,x', '2,,y']);
    const nullCode = await runDataset(h, config, DAY2);
    const nullCodeError = failedTable(nullCode, 't');
    expect(nullCodeError).toContain('key column "code" is NULL');
    expect(nullCodeError).toMatch(/\brow=2\b/);

    expect(readFileSync(current).equals(before)).toBe(true);
    expect(existsSync(path.dirname(historyOf(config, 't', DAY2)))).toBe(false);
  });

  it('a configured column missing from the source fails, naming the column and the file', async () => {
    const { dir, config } = setup([
      csvTable('t', [{ name: 'id', type: 'integer' }], [
        { name: 'v', type: 'varchar' },
        { name: 'price', type: 'double' },
      ]),
    ]);
    const file = path.join(dir, 't', `${DAY1}.csv`);
    writeLines(file, ['id,v', '1,a']);
    attempts = [];
    const out = await runDataset(h, config, DAY1);
    expect(out.ok).toBe(false);
    const error = failedTable(out, 't');
    expect(error).toContain('source is missing configured column(s) "price"');
    expect(error).toContain(`file=${file}`);
    expect(attempts.filter((a) => a.stage === 'hash')).toEqual([{ stage: 'hash', attempt: 1 }]);
    expect(existsSync(currentOf(config, 't'))).toBe(false);
  });

  it('a file of a multi-file batch that lacks a column fails, naming that file', async () => {
    const { dir, config } = setup([
      { ...csvTable('t', [{ name: 'id', type: 'integer' }], [{ name: 'price', type: 'double' }]), source: { format: 'csv', path: 't/*.csv' } },
    ]);
    writeLines(path.join(dir, 't', 'p1.csv'), ['id,price', '1,2.5']);
    writeLines(path.join(dir, 't', 'p2.csv'), ['id', '2']);
    const error = failedTable(await runDataset(h, config, DAY1), 't');
    expect(error).toContain('source is missing configured column(s) "price"');
    expect(error).toContain(`file=${path.join(dir, 't', 'p2.csv')}`);
  });

  it('row numbers stay right when source columns are called ordinality or row', async () => {
    const { dir, config } = setup([
      csvTable('t', [{ name: 'row', type: 'integer' }], [{ name: 'ordinality', type: 'integer' }, { name: 'qty', type: 'integer' }]),
    ]);
    const file = path.join(dir, 't', `${DAY1}.csv`);
    writeLines(file, ['row,ordinality,qty', '7,10,1', '8,20,x']);
    expect(failedTable(await runDataset(h, config, DAY1), 't')).toMatch(/row=2 line=3 column=qty/);
    writeLines(file, ['row,ordinality,qty', '7,10,1', '8,20,2', '7,30,3']);
    const dup = failedTable(await runDataset(h, config, DAY1), 't');
    expect(dup).toContain(`duplicate key (row=7) in the batch (${file} row 1 and ${file} row 3)`);
  });

  it('one failing table does not stop the others; the run fails naming it', async () => {
    const keys = [{ name: 'id', type: 'integer' }];
    const columns = [{ name: 'v', type: 'integer' }];
    const { dir, config } = setup([csvTable('a', keys, columns), csvTable('b', keys, columns), csvTable('c', keys, columns)]);
    writeLines(path.join(dir, 'a', `${DAY1}.csv`), ['id,v', '1,1', '2,2']);
    writeLines(path.join(dir, 'b', `${DAY1}.csv`), ['id,v', '1,1', '2,oops']);
    writeLines(path.join(dir, 'c', `${DAY1}.csv`), ['id,v', '1,1', '2,2', '3,3']);

    const out = await runDataset(h, config, DAY1);
    expect(out.ok).toBe(false);
    expect(out.ok ? '' : out.type).toBe('TableRunsFailed');
    expect(out.ok ? '' : out.error).toMatch(/^1 of 3 table\(s\) failed: b: value "oops" in column "v"/);
    expect(out.result?.tables.map((t) => [t.table, t.status])).toEqual([
      ['a', 'completed'],
      ['b', 'failed'],
      ['c', 'completed'],
    ]);
    expect(tableResult(out, 'a').counts).toEqual({ I: 2, U: 0, D: 0, X: 0, N: 0 });
    expect(tableResult(out, 'c').counts).toEqual({ I: 3, U: 0, D: 0, X: 0, N: 0 });
    expect(await readRows(h.engine, currentOf(config, 'a'), 'id')).toHaveLength(2);
    expect(await readRows(h.engine, currentOf(config, 'c'), 'id')).toHaveLength(3);
    expect(existsSync(historyOf(config, 'a', DAY1))).toBe(true);
    expect(existsSync(historyOf(config, 'c', DAY1))).toBe(true);
    expect(existsSync(currentOf(config, 'b'))).toBe(false);
  });

  it('--tables runs only the named tables; an unknown name fails with a ConfigError naming it', async () => {
    const keys = [{ name: 'id', type: 'integer' }];
    const { dir, config } = setup([csvTable('a', keys, []), csvTable('b', keys, [])]);
    writeLines(path.join(dir, 'a', `${DAY1}.csv`), ['id', '1', '2']);
    writeLines(path.join(dir, 'b', `${DAY1}.csv`), ['id', '1']);

    const out = succeeded(await runDataset(h, config, DAY1, ['a']));
    expect(out.result?.tables.map((t) => t.table)).toEqual(['a']);
    expect(tableResult(out, 'a').counts).toEqual({ I: 2, U: 0, D: 0, X: 0, N: 0 });
    expect(existsSync(currentOf(config, 'a'))).toBe(true);
    expect(existsSync(tableRoot(config, 'b'))).toBe(false);

    const unknown = await runDataset(h, config, DAY2, ['a', 'nope']);
    expect(unknown.ok).toBe(false);
    expect(unknown.ok ? '' : unknown.type).toBe('ConfigError');
    expect(unknown.ok ? '' : unknown.error).toContain('nope');
    expect(unknown.ok ? '' : unknown.error).toContain(config.dataset);
    // Nothing ran for the known table either.
    expect(existsSync(path.dirname(historyOf(config, 'a', DAY2)))).toBe(false);
  });

  it('varchar columns hold a JSON string as its text and nested values as JSON, whatever else the file holds', async () => {
    const keys = [{ name: 'id', type: 'integer' }];
    const columns = [
      { name: 'code', type: 'varchar' },
      { name: 'meta', type: 'varchar' },
    ];
    const { dir, config } = setup([
      { name: 'j', keys, columns, source: { format: 'json', path: 'json/{date}/rows.json' } },
      { name: 'p', keys, columns, source: { format: 'parquet', path: 'pq/data-{date}.parquet' } },
    ]);
    const jsonDay = (date: string, rows: object[]) => writeLines(path.join(dir, 'json', date, 'rows.json'), rows.map((r) => JSON.stringify(r)));
    jsonDay(DAY1, [
      { id: 1, code: 'abc', meta: { tags: ['a', 'b c'] } },
      { id: 2, code: 'x', meta: { tags: [] } },
    ]);
    // Day 2 adds a row whose code is a number: DuckDB then types the whole column as JSON.
    jsonDay(DAY2, [
      { id: 1, code: 'abc', meta: { tags: ['a', 'b c'] } },
      { id: 2, code: 'x', meta: { tags: [] } },
      { id: 3, code: 5, meta: 'plain' },
    ]);
    mkdirSync(path.join(dir, 'pq'));
    await h.engine.withSession((s) =>
      s.run(`COPY (SELECT 1 AS id, ['a', 'b c'] AS code, {'k': 1, 's': 'x, y'} AS meta) TO '${path.join(dir, 'pq', `data-${DAY1}.parquet`)}' (FORMAT parquet)`),
    );

    succeeded(await runDataset(h, config, DAY1, ['j', 'p']));
    expect(await readRows(h.engine, currentOf(config, 'p'), 'id')).toEqual([
      { id: 1, code: '["a","b c"]', meta: '{"k":1,"s":"x, y"}', OPERATION: 'I', EFF_START_DATE: DAY1 },
    ]);
    const day2 = succeeded(await runDataset(h, config, DAY2, ['j']));
    expect(tableResult(day2, 'j').counts).toEqual({ I: 1, U: 0, D: 0, X: 0, N: 2 });
    expect(await readRows(h.engine, currentOf(config, 'j'), 'id')).toEqual([
      { id: 1, code: 'abc', meta: '{"tags":["a","b c"]}', OPERATION: 'N', EFF_START_DATE: DAY1 },
      { id: 2, code: 'x', meta: '{"tags":[]}', OPERATION: 'N', EFF_START_DATE: DAY1 },
      { id: 3, code: '5', meta: 'plain', OPERATION: 'I', EFF_START_DATE: DAY2 },
    ]);
  });

  it('JSON and Parquet sources with a {date} placeholder', async () => {
    const keys = [{ name: 'id', type: 'integer' }];
    const columns = [
      { name: 'name', type: 'varchar' },
      { name: 'amount', type: 'decimal(10,2)' },
      { name: 'day', type: 'date' },
    ];
    const { dir, config } = setup([
      { name: 'j', keys, columns, source: { format: 'json', path: 'json/{date}/rows.json' } },
      { name: 'p', keys, columns, source: { format: 'parquet', path: 'pq/data-{date}.parquet' } },
    ]);
    const jsonDay = (date: string, rows: object[]) => writeLines(path.join(dir, 'json', date, 'rows.json'), rows.map((r) => JSON.stringify(r)));
    jsonDay(DAY1, [
      { id: 1, name: 'a', amount: 1.5, day: '2024-01-01' },
      { id: 2, name: 'b', amount: 2, day: '2024-01-02' },
    ]);
    jsonDay(DAY2, [
      { id: 1, name: 'a', amount: 1.5, day: '2024-01-01' },
      { id: 3, name: 'c', amount: 3.25, day: '2024-01-03' },
    ]);
    mkdirSync(path.join(dir, 'pq'));
    await h.engine.withSession(async (s) => {
      await s.run(
        `COPY (SELECT * FROM (VALUES (1, 'a', 1.5, DATE '2024-01-01'), (2, 'b', 2.0, DATE '2024-01-02')) v(id, name, amount, day)) ` +
          `TO '${path.join(dir, 'pq', `data-${DAY1}.parquet`)}' (FORMAT parquet)`,
      );
      await s.run(
        `COPY (SELECT * FROM (VALUES (1, 'A', 1.5, DATE '2024-01-01'), (2, 'b', 2.0, DATE '2024-01-02')) v(id, name, amount, day)) ` +
          `TO '${path.join(dir, 'pq', `data-${DAY2}.parquet`)}' (FORMAT parquet)`,
      );
    });

    const day1 = succeeded(await runDataset(h, config, DAY1));
    expect(tableResult(day1, 'j').counts).toEqual({ I: 2, U: 0, D: 0, X: 0, N: 0 });
    expect(tableResult(day1, 'p').counts).toEqual({ I: 2, U: 0, D: 0, X: 0, N: 0 });

    const day2 = succeeded(await runDataset(h, config, DAY2));
    expect(tableResult(day2, 'j').counts).toEqual({ I: 1, U: 0, D: 1, X: 0, N: 1 });
    expect(tableResult(day2, 'p').counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 1 });
    expect(await readRows(h.engine, currentOf(config, 'j'), 'id')).toEqual([
      { id: 1, name: 'a', amount: '1.50', day: '2024-01-01', OPERATION: 'N', EFF_START_DATE: DAY1 },
      { id: 3, name: 'c', amount: '3.25', day: '2024-01-03', OPERATION: 'I', EFF_START_DATE: DAY2 },
    ]);
    expect(await readRows(h.engine, currentOf(config, 'p'), 'id')).toEqual([
      { id: 1, name: 'A', amount: '1.50', day: '2024-01-01', OPERATION: 'U', EFF_START_DATE: DAY2 },
      { id: 2, name: 'b', amount: '2.00', day: '2024-01-02', OPERATION: 'N', EFF_START_DATE: DAY1 },
    ]);
  });
});

/**
 * A sensitive column's values never reach the places where people without access to the
 * sensitive dataset look: bad input in a sensitive column fails its table through the real
 * workflow (a real worker process, real Temporal, real DuckDB) with a message that names the
 * column and the place but withholds the value, and neither the Temporal histories nor the
 * worker's log hold it.
 */
import * as path from 'node:path';
import { datasetWorkflowId, tableWorkflowId } from '../../src/workflows/ids';
import { failedTable, type Harness, runDataset, startHarness, tempDir, uniqueDataset, writeConfig, writeLines } from '../support/harness';
import { PG_URL_VAR, psql } from '../support/postgres';
import { killAllWorkers, spawnWorker, withTimeout, type WorkerProcess } from '../support/worker-process';

const DAY = '2024-01-01';
const DAY2 = '2024-01-02';
/** Every sensitive value of the inputs contains it. */
const SECRET = 'S3CRET';
const WITHHELD_VALUE = '(the value is withheld: the column is sensitive)';
const WITHHELD_LINE = '(the line is withheld: the table has sensitive columns)';

describe('sensitive values in failures', () => {
  let h: Harness;
  let worker: WorkerProcess;
  const queue = `sensitive-${uniqueDataset('q')}`;

  beforeAll(async () => {
    h = await startHarness();
    worker = await spawnWorker(queue, path.join(tempDir(), 'duckdb'));
  });
  afterAll(async () => {
    await killAllWorkers();
    await h?.stop();
  });

  const id = { name: 'id', type: 'integer' };
  const ssn = { name: 'ssn', type: 'varchar', sensitive: true };
  const salary = { name: 'salary', type: 'integer', sensitive: true };
  const changes = { mode: 'changes', orderBy: [{ name: 'seq', type: 'bigint' }] };

  it('bad input in tables with sensitive columns names column, key or line, never the value', async () => {
    const dir = tempDir();
    const dataset = uniqueDataset('sens');
    const input = (file: string, ...lines: string[]) => writeLines(path.join(dir, file), lines);
    input('cast.csv', 'id,ssn,salary', `1,111-${SECRET},10`, `2,222-${SECRET},${SECRET}9`);
    input('ragged.csv', 'id,ssn,salary', `1,111-${SECRET},10`, `2,222-${SECRET},20,extra`);
    input('json.json', `{"id":1,"ssn":"111-${SECRET}","salary":10}`, `{"id":2,"ssn":"222-${SECRET}",]`);
    input('events.csv', 'id,ssn,salary,op,seq', `1,111-${SECRET},10,I,1`, `2,222-${SECRET},${SECRET}9,I,2`);
    input('dbz.json', `{"op":"c","after":{"id":1,"ssn":"111-${SECRET}","salary":10},"source":{"lsn":1}}`, `{"op":"c","after":{"id":2,"ssn":"222-${SECRET}",`);
    // Past the rows DuckDB samples for the JSON types, a string where numbers were: DuckDB's own error quotes it.
    input('late.json', ...Array.from({ length: 30_000 }, (_, i) => `{"id":${i + 1},"salary":${i}}`), `{"id":30001,"salary":"${SECRET}9"}`);
    const config = writeConfig(dir, {
      dataset,
      warehouse: 'wh',
      tables: [
        { name: 'late', keys: [id], columns: [salary], source: { format: 'json', path: 'late.json' } },
        { name: 'cast', keys: [id], columns: [ssn, salary], source: { format: 'csv', path: 'cast.csv' } },
        { name: 'ragged', keys: [id], columns: [ssn, salary], source: { format: 'csv', path: 'ragged.csv' } },
        { name: 'json', keys: [id], columns: [ssn, salary], source: { format: 'json', path: 'json.json' } },
        { name: 'events', keys: [id], columns: [ssn, salary], ...changes, source: { format: 'csv', path: 'events.csv' } },
        { name: 'dbz', keys: [id], columns: [ssn, salary], mode: 'changes', source: { format: 'debezium', path: 'dbz.json' } },
      ],
    });

    const outcome = await runDataset({ client: h.client, settings: { ...h.settings, taskQueue: queue } }, config, DAY);
    expect(outcome.ok).toBe(false);
    const messages = Object.fromEntries(['late', 'cast', 'ragged', 'json', 'events', 'dbz'].map((t) => [t, failedTable(outcome, t)]));

    expect(messages.late).toMatch(/cannot read the file as json: Invalid Input Error: JSON transform error in file ".*late\.json", in line 30001: .*\(withheld\)/);
    expect(messages.cast).toContain(`a value in column "salary" does not convert exactly to integer ${WITHHELD_VALUE}`);
    expect(messages.cast).toMatch(/row=2 line=3 column=salary\b/);
    expect(messages.ragged).toMatch(new RegExp(`line 3 cannot be read as configured: .*: ${escape(WITHHELD_LINE)}`));
    expect(messages.json).toContain(`line 2 is not valid JSON (`);
    expect(messages.json).toContain(WITHHELD_LINE);
    expect(messages.events).toContain(`a value in field "salary" does not convert exactly to integer ${WITHHELD_VALUE}`);
    expect(messages.events).toMatch(/line=3 column=salary\b/);
    expect(messages.dbz).toContain(`event at line 2 is not valid JSON: ${WITHHELD_LINE}`);
    for (const m of Object.values(messages)) expect(m).not.toContain(SECRET);

    await expectNotInHistoriesOrLog(dataset, Object.keys(messages));
  });

  it('a PostgreSQL value that does not convert in a sensitive column names the column and the key, never the value', async () => {
    psql(`DROP TABLE IF EXISTS public.sensitive_pay; CREATE TABLE public.sensitive_pay (id integer PRIMARY KEY, salary text);
      INSERT INTO public.sensitive_pay VALUES (1, '10'), (2, '${SECRET}9');`);
    const dir = tempDir();
    const dataset = uniqueDataset('senspg');
    const config = writeConfig(dir, {
      dataset,
      warehouse: 'wh',
      tables: [{ name: 'pay', keys: [id], columns: [salary], source: { format: 'postgres', connection: PG_URL_VAR, table: 'public.sensitive_pay' } }],
    });
    const outcome = await runDataset({ client: h.client, settings: { ...h.settings, taskQueue: queue } }, config, DAY);
    const message = failedTable(outcome, 'pay');
    expect(message).toContain(`a value in column "salary" of the row with key (id=2) does not convert exactly to integer ${WITHHELD_VALUE}`);
    expect(message).toMatch(/key=\(id=2\) column=salary\)$/);
    await expectNotInHistoriesOrLog(dataset, ['pay']);
  });

  it('a sink refusing a sensitive value (a unique index added by hand) fails the table without the value', async () => {
    const dir = tempDir();
    const dataset = uniqueDataset('senssink');
    const schema = `k_${dataset.replace(/-/g, '_')}`;
    const sinkFile = path.join(dir, 'sink.duckdb');
    writeLines(path.join(dir, `${DAY}.csv`), ['id,ssn', `1,111-${SECRET}`]);
    writeLines(path.join(dir, `${DAY2}.csv`), ['id,ssn', `1,111-${SECRET}`, `2,111-${SECRET}`]);
    const config = (sinks: object[]) =>
      writeConfig(dir, { dataset, warehouse: 'wh', tables: [{ name: 'p', keys: [id], columns: [ssn], source: { format: 'csv', path: '{date}.csv' }, sinks }] });
    const pg = { type: 'postgres', connection: PG_URL_VAR, schema };
    const file = { type: 'duckdb', path: 'sink.duckdb', schema };
    const on = { client: h.client, settings: { ...h.settings, taskQueue: queue } };
    expect((await runDataset(on, config([pg, file]), DAY)).ok).toBe(true);
    // A second ssn equal to the first, refused by a unique index added by hand in either sink.
    psql(`CREATE UNIQUE INDEX one_ssn ON "${schema}_sensitive".p_current (ssn)`);
    await h.engine.withSession(async (s) => {
      await s.run(`ATTACH '${sinkFile}' AS by_hand`);
      await s.run(`CREATE UNIQUE INDEX one_ssn ON by_hand."${schema}_sensitive".p_current (ssn)`);
      await s.run('DETACH by_hand');
    });
    const outcome = await withTimeout(runDataset(on, config([pg, file]), DAY2), 60_000, () => 'the run did not end within 60 s (the sink retried?)');
    const message = failedTable(outcome, 'p');
    expect(message).toContain(`the sink refused the rows of ${DAY2}: Duplicate key (withheld) violates unique constraint. Nothing of the date was applied`);
    expect(message).toContain('violates unique constraint "one_ssn" (SQLSTATE 23505)');
    expect(message).not.toContain(SECRET);
    await expectNotInHistoriesOrLog(dataset, ['p'], DAY2);
  });

  /** Neither the run's workflow histories (payloads decoded) nor the worker's log hold a sensitive value. */
  async function expectNotInHistoriesOrLog(dataset: string, tables: string[], date = DAY): Promise<void> {
    for (const workflowId of [datasetWorkflowId(dataset, date), ...tables.map((t) => tableWorkflowId(dataset, date, t))]) {
      const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
      expect(readable(history)).not.toContain(SECRET);
    }
    expect(worker.output()).toContain('Activity failed');
    expect(worker.output()).not.toContain(SECRET);
  }
});

/** A history as text, its payloads' bytes decoded (JSON.stringify alone would list them as numbers). */
function readable(value: unknown): string {
  const decode = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    if (Array.isArray(v)) return v.map(decode);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
    return v;
  };
  return JSON.stringify(decode(value));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

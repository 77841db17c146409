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
import { killAllWorkers, spawnWorker, type WorkerProcess } from '../support/worker-process';

const DAY = '2024-01-01';
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

  /** Neither the run's workflow histories (payloads decoded) nor the worker's log hold a sensitive value. */
  async function expectNotInHistoriesOrLog(dataset: string, tables: string[]): Promise<void> {
    for (const workflowId of [datasetWorkflowId(dataset, DAY), ...tables.map((t) => tableWorkflowId(dataset, DAY, t))]) {
      const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
      expect(readable(history)).not.toContain(SECRET);
    }
    expect(worker.output()).toContain('does not convert exactly');
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

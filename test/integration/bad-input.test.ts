/**
 * Bad batches never pass: through the real workflow (Temporal dev server + DuckDB), each bad
 * input fails its table once (no retries) with a DataError or ConfigError naming file and line
 * (a config whose table shape changed since the latest commit: a StateError naming the change; a
 * warehouse moved since its catalog was created: a ConfigError),
 * and leaves the committed outputs byte for byte as they were; a corrected file is re-read; the
 * mass-delete guard refuses an empty snapshot and a large delete unless overridden.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { StageName } from '../../src/activities/stage-runner';
import type { DatasetConfig } from '../../src/config/types';
import { startDatasetRun } from '../../src/client/start-run';
import { tableWorkflowId } from '../../src/workflows/ids';
import { committedDates, datasetFolders, type Harness, readRows, type RunOutcome, runDataset, startHarness, tableResult, writeConfig } from '../support/harness';
import { withTimeout } from '../support/worker-process';

const DAY1 = '2024-01-01';
const DAY2 = '2024-01-02';
const DAY3 = '2024-01-03';

describe('bad input', () => {
  let h: Harness;
  const folders = datasetFolders('bad');
  const { setup } = folders;
  let attempts: { stage: StageName; attempt: number }[] = [];
  /** A test's own look at each stage attempt, before it runs. */
  let onStage: ((stage: StageName, attempt: number) => void) | undefined;

  beforeAll(async () => {
    h = await startHarness({
      beforeStage: (stage, attempt) => {
        attempts.push({ stage, attempt });
        onStage?.(stage, attempt);
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
    folders.removeAll();
  });


  /** Writes a file exactly as given (bytes or lines joined by \n), creating folders. */
  function write(file: string, content: string | Buffer): void {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  const lines = (...l: string[]) => `${l.join('\n')}\n`;

  const table = (name: string, over: object = {}) => ({
    name,
    keys: [{ name: 'id', type: 'integer' }],
    columns: [{ name: 'v', type: 'varchar' }],
    source: { format: 'csv', path: `${name}/{date}.csv` },
    ...over,
  });

  /** Every committed file of the dataset (stage files aside) with its bytes. */
  function committedBytes(config: DatasetConfig): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== '_work') walk(p);
        } else out.set(path.relative(config.warehouse, p), readFileSync(p).toString('base64'));
      }
    };
    walk(path.join(config.warehouse, config.dataset));
    return out;
  }

  /** The failure type and message a table run ended with. */
  async function tableFailure(config: DatasetConfig, date: string, name: string): Promise<{ type?: string; message: string }> {
    try {
      await h.client.workflow.getHandle(tableWorkflowId(config.dataset, date, name)).result();
    } catch (err) {
      // The innermost ApplicationFailure: the activity's own error (the table run restates it as "<stage> failed: ...").
      let failure: ApplicationFailure | undefined;
      for (let cause: unknown = err instanceof WorkflowFailedError ? err.cause : err; cause; cause = (cause as { cause?: unknown }).cause) {
        if (cause instanceof ApplicationFailure) failure = cause;
      }
      return { type: failure?.type ?? undefined, message: failure?.message ?? String(err) };
    }
    throw new Error(`table ${name} of ${config.dataset} ${date} did not fail`);
  }

  const ok = (outcome: RunOutcome): RunOutcome => {
    if (!outcome.ok) throw new Error(`run failed: ${outcome.error}`);
    return outcome;
  };

  describe('wrong results of the old code', () => {
    it('a header repeated further down (two exports concatenated) is refused, not read from the second header on', async () => {
      const { dir, config } = setup([table('t')]);
      write(path.join(dir, 't', `${DAY1}.csv`), lines('id,v', '1,a', '2,b', '3,c', '4,d'));
      ok(await runDataset(h, config, DAY1));
      const before = committedBytes(config);
      const file = path.join(dir, 't', `${DAY2}.csv`);
      write(file, lines('id,v', '1,a', '2,b', 'id,v,w', '3,c,x', '4,d,y'));

      const outcome = await runDataset(h, config, DAY2);
      expect(outcome.ok).toBe(false);
      const failure = await tableFailure(config, DAY2, 't');
      expect(failure.type).toBe('DataError');
      expect(failure.message).toContain(`file=${file}`);
      expect(failure.message).toContain('line=4');
      expect(failure.message).toContain('id,v,w');
      expect(committedBytes(config)).toEqual(before);
    });

    it('a header-only file in full mode is refused instead of deleting every key', async () => {
      const { dir, config } = setup([table('t')]);
      write(path.join(dir, 't', `${DAY1}.csv`), lines('id,v', '1,a', '2,b'));
      ok(await runDataset(h, config, DAY1));
      const before = committedBytes(config);
      write(path.join(dir, 't', `${DAY2}.csv`), lines('id,v'));

      expect((await runDataset(h, config, DAY2)).ok).toBe(false);
      const failure = await tableFailure(config, DAY2, 't');
      expect(failure.type).toBe('DataError');
      expect(failure.message).toMatch(/no rows.*2 keys/);
      expect(committedBytes(config)).toEqual(before);
    });

    it('a corrected file of the same size and mtime is read again', async () => {
      const { dir, config } = setup([table('t')]);
      const file = path.join(dir, 't', `${DAY1}.csv`);
      const mtime = new Date('2024-01-01T06:00:00Z');
      write(file, lines('id,v', '1,wrong', '2,b'));
      utimesSync(file, mtime, mtime);
      ok(await runDataset(h, config, DAY1));
      write(file, lines('id,v', '1,right', '2,b'));
      utimesSync(file, mtime, mtime);

      ok(await runDataset(h, config, DAY1));
      const current = path.join(config.warehouse, config.dataset, 't', 'current.parquet');
      expect(await readRows(h.engine, current, 'id', ['KEY_HASH', 'NONKEY_HASH', 'OPERATION', 'EFF_START_DATE'])).toEqual([
        { id: 1, v: 'right' },
        { id: 2, v: 'b' },
      ]);
    });

    it('values that do not convert exactly are refused, naming file, row, column and value', async () => {
      const { dir, config } = setup([
        table('int_frac', { columns: [{ name: 'n', type: 'integer' }] }),
        table('dec_scale', { columns: [{ name: 'n', type: 'decimal(10,2)' }] }),
        table('ts_offset', { columns: [{ name: 'n', type: 'timestamp' }] }),
        table('midnight24', { columns: [{ name: 'n', type: 'timestamp' }] }),
        table('pq_double', { columns: [{ name: 'n', type: 'integer' }], source: { format: 'parquet', path: 'pq_double/{date}.parquet' } }),
        table('pq_ts', { columns: [{ name: 'n', type: 'date' }], source: { format: 'parquet', path: 'pq_ts/{date}.parquet' } }),
        table('pq_bigint', { columns: [{ name: 'n', type: 'double' }], source: { format: 'parquet', path: 'pq_bigint/{date}.parquet' } }),
        table('json_num', { columns: [{ name: 'n', type: 'integer' }], source: { format: 'json', path: 'json_num/{date}.json' } }),
        table('dbl_under', { columns: [{ name: 'n', type: 'double' }] }),
      ]);
      const csv = (name: string, value: string) => write(path.join(dir, name, `${DAY1}.csv`), lines('id,n', '1,7', `2,${value}`));
      csv('int_frac', '20.4');
      write(path.join(dir, 'json_num', `${DAY1}.json`), lines('{"id":1,"n":7}', '{"id":2,"n":12.5}'));
      csv('dec_scale', '5.004');
      // Below the least double: it was read as 0, so a change from 0 to it, or between two such values, was N.
      csv('dbl_under', '1e-400');
      write(path.join(dir, 'ts_offset', `${DAY1}.csv`), lines('id,n', '1,2024-01-01 10:00:00', '2,2024-01-01 10:00:00-08'));
      write(path.join(dir, 'midnight24', `${DAY1}.csv`), lines('id,n', '1,2024-01-01 23:59:59', '2,2024-01-01 24:00:00'));
      for (const [name, rows] of [
        ['pq_double', `(1, 7.0::DOUBLE), (2, 12.5::DOUBLE)`],
        ['pq_ts', `(1, TIMESTAMP '2024-01-01 00:00:00'), (2, TIMESTAMP '2024-01-01 10:30:00')`],
        // A double holds it only as 2^63, beyond BIGINT: the old run failed with DuckDB's Conversion Error, retried.
        ['pq_bigint', `(1, (-9223372036854775808)::BIGINT), (2, 9223372036854775807::BIGINT)`],
      ]) {
        mkdirSync(path.join(dir, name));
        await h.engine.withSession((s) => s.run(`COPY (SELECT * FROM (VALUES ${rows}) t(id, n)) TO '${path.join(dir, name, `${DAY1}.parquet`)}' (FORMAT parquet)`));
      }

      expect((await runDataset(h, config, DAY1)).ok).toBe(false);
      const expectations: [string, string][] = [
        ['int_frac', '"20.4"'],
        ['dec_scale', '"5.004"'],
        ['ts_offset', '"2024-01-01 10:00:00-08"'],
        ['midnight24', '"2024-01-01 24:00:00"'],
        ['pq_double', '"12.5"'],
        ['pq_ts', '"2024-01-01 10:30:00"'],
        ['pq_bigint', '"9223372036854775807"'],
        ['json_num', '"12.5"'],
        ['dbl_under', '"1e-400"'],
      ];
      for (const [name, value] of expectations) {
        const failure = await tableFailure(config, DAY1, name);
        expect({ name, type: failure.type }).toEqual({ name, type: 'DataError' });
        expect(failure.message).toContain(`value ${value} in column "n"`);
        expect(failure.message).toMatch(new RegExp(`file=\\S*${name}/${DAY1}\\.\\w+ row=2`));
      }
    });
  });

  describe('time zones in timestamptz text', () => {
    it('text without an offset is UTC after a value naming a zone; an abbreviation or an offset no zone has is refused', async () => {
      const { dir, config } = setup([
        table('named', { columns: [{ name: 'n', type: 'timestamptz' }] }),
        table('abbrev', { columns: [{ name: 'n', type: 'timestamptz' }] }),
        table('offset', { columns: [{ name: 'n', type: 'timestamptz' }] }),
      ]);
      // DuckDB read row 2 in row 1's zone (15:00+00) and the BST of a British export as Bangladesh's (04:00+00), with exit 0.
      write(path.join(dir, 'named', `${DAY1}.csv`), lines('id,n', '1,2024-07-01 10:00:00 America/New_York', '2,2024-01-01 10:00:00'));
      write(path.join(dir, 'abbrev', `${DAY1}.csv`), lines('id,n', '1,2024-07-01 10:00:00+01', '2,2024-07-01 10:00:00 BST'));
      write(path.join(dir, 'offset', `${DAY1}.csv`), lines('id,n', '1,2024-01-01 10:00:00+05:45', '2,2024-01-01 10:00:00+99'));

      expect((await runDataset(h, config, DAY1)).ok).toBe(false);
      const current = path.join(config.warehouse, config.dataset, 'named', 'current.parquet');
      const rows = await h.engine.withSession((s) => s.rows<{ n: string }>(`SELECT CAST(n AS VARCHAR) AS n FROM '${current}' ORDER BY id`));
      expect(rows.map((r) => r.n)).toEqual(['2024-07-01 14:00:00+00', '2024-01-01 10:00:00+00']);
      const abbrev = await tableFailure(config, DAY1, 'abbrev');
      expect(abbrev.type).toBe('DataError');
      expect(abbrev.message).toMatch(/value "2024-07-01 10:00:00 BST" in column "n" does not convert exactly to timestamptz \(a zone abbreviation, which names no one offset .*\).*file=\S*abbrev\/\S+ row=2/);
      const offset = await tableFailure(config, DAY1, 'offset');
      expect(offset.message).toMatch(/value "2024-01-01 10:00:00\+99" in column "n" does not convert exactly to timestamptz \(a UTC offset out of range.*row=2/);
    });
  });

  describe('JSON numbers', () => {
    const jsonTable = (name: string, type: string) => table(name, { columns: [{ name: 'n', type }], source: { format: 'json', path: `${name}/{date}.json` } });
    const jsonFile = (dir: string, name: string, date: string, ...rows: string[]) => write(path.join(dir, name, `${date}.json`), lines(...rows));

    it('a JSON number that a double does not hold exactly is refused with the way out, not stored rounded', async () => {
      // DuckDB's reader types these DOUBLE: the old run stored them rounded (a change beyond the 17th digit was N) and succeeded.
      const cases: [string, string, string, string, RegExp][] = [
        ['amount', 'decimal(38,9)', '1234567890.12', '1234567890.123456789', /"1234567890\.1234567".*15 significant digits.*send it as a JSON string \("1234567890\.123456789"\)/],
        ['big_dec', 'decimal(38,0)', '1', '123456789012345678901234567', /"1\.2345678901234568e\+26".*15 significant digits/],
        ['big_text', 'varchar', '1.5', '123456789012345678901234567', /"1\.2345678901234568e\+26".*15 significant digits/],
        ['big_int', 'bigint', '1.0', '9007199254740993.0', /"9007199254740992\.0".*15 significant digits/],
        ['inf_double', 'double', '1.5', '1e400', /"inf".*beyond a double's range, read as infinity\) /],
        ['inf_text', 'varchar', '1.5', '-1e400', /"-inf".*beyond a double's range, read as infinity: send it as a JSON string/],
      ];
      const { dir, config } = setup(cases.map(([name, type]) => jsonTable(name, type)));
      for (const [name, , good] of cases) jsonFile(dir, name, DAY1, `{"id":1,"n":${good}}`, `{"id":2,"n":${good}}`);
      ok(await runDataset(h, config, DAY1));
      const before = committedBytes(config);

      for (const [name, , good, bad] of cases) jsonFile(dir, name, DAY2, `{"id":1,"n":${good}}`, `{"id":2,"n":${bad}}`);
      expect((await runDataset(h, config, DAY2)).ok).toBe(false);
      for (const [name, type, , , message] of cases) {
        const failure = await tableFailure(config, DAY2, name);
        expect({ name, type: failure.type }).toEqual({ name, type: 'DataError' });
        expect(failure.message).toContain(`in column "n" does not convert exactly to ${type}`);
        expect(failure.message).toMatch(message);
        expect(failure.message).toMatch(new RegExp(`file=\\S*${name}/${DAY2}\\.json row=2`));
      }
      expect(committedBytes(config)).toEqual(before);
    });

    it('JSON numbers a double holds exactly pass, a double column takes any finite one, and a JSON string keeps every digit', async () => {
      const { dir, config } = setup([
        table('t', {
          columns: [
            { name: 'price', type: 'decimal(10,2)' },
            { name: 'amount', type: 'decimal(38,9)' },
            { name: 'x', type: 'double' },
          ],
          source: { format: 'json', path: 't/{date}.json' },
        }),
      ]);
      jsonFile(
        dir,
        't',
        DAY1,
        '{"id":1,"price":12.5,"amount":"1234567890.123456789","x":1234567890.123456789}',
        '{"id":2,"price":0.1,"amount":"-0.000000001","x":123456789012345678901234567}',
        '{"id":3,"price":99999.99,"amount":"0","x":1e308}',
      );
      ok(await runDataset(h, config, DAY1));
      const current = path.join(config.warehouse, config.dataset, 't', 'current.parquet');
      expect(await readRows(h.engine, current, 'id', ['KEY_HASH', 'NONKEY_HASH', 'OPERATION', 'EFF_START_DATE'])).toEqual([
        { id: 1, price: '12.50', amount: '1234567890.123456789', x: 1234567890.1234567 },
        { id: 2, price: '0.10', amount: '-0.000000001', x: 1.2345678901234568e26 },
        { id: 3, price: '99999.99', amount: '0.000000000', x: 1e308 },
      ]);
    });
  });

  describe('input that used to be retried', () => {
    it('ragged rows, a repeated header, malformed JSON, invalid UTF-8 and an empty file fail once, naming file and line', async () => {
      const { dir, config } = setup([
        table('ragged'),
        table('header'),
        table('json', { source: { format: 'json', path: 'json/{date}.json' } }),
        table('utf8'),
        table('empty'),
      ]);
      const csvOf = (name: string, date: string) => path.join(dir, name, `${date}.csv`);
      for (const name of ['ragged', 'header', 'utf8', 'empty']) write(csvOf(name, DAY1), lines('id,v', '1,a', '2,b'));
      write(path.join(dir, 'json', `${DAY1}.json`), lines('{"id":1,"v":"a"}', '{"id":2,"v":"b"}'));
      ok(await runDataset(h, config, DAY1));
      const before = committedBytes(config);

      write(csvOf('ragged', DAY2), lines('id,v', '1,a', '2,b,c'));
      write(csvOf('header', DAY2), lines('id,v', '1,a', 'id,v', '2,b'));
      write(path.join(dir, 'json', `${DAY2}.json`), lines('{"id":1,"v":"a"}', '{"id":2,"v":"b",]', '{"id":3,"v":"c"}'));
      write(csvOf('utf8', DAY2), Buffer.concat([Buffer.from('id,v\n1,a\n2,"b'), Buffer.from([0xff, 0xfe]), Buffer.from('"\n')]));
      write(csvOf('empty', DAY2), '');
      attempts = [];
      expect((await runDataset(h, config, DAY2)).ok).toBe(false);

      const expected: [string, string, RegExp][] = [
        ['ragged', csvOf('ragged', DAY2), /^line 3 cannot be read as configured: Expected Number of Columns: 2 Found: 3: "2,b,c" .* line=3/],
        ['header', csvOf('header', DAY2), /^line 3 repeats the header \(two exports concatenated\?\): "id,v" .* line=3/],
        ['json', path.join(dir, 'json', `${DAY2}.json`), /^line 2 is not valid JSON \(unexpected character\): "\{\\"id\\":2,\\"v\\":\\"b\\",]" .* line=2/],
        ['utf8', csvOf('utf8', DAY2), /^line 3 cannot be read as configured: Invalid unicode .* line=3/],
        ['empty', csvOf('empty', DAY2), /^the file is empty \(0 bytes\)/],
      ];
      for (const [name, file, message] of expected) {
        const failure = await tableFailure(config, DAY2, name);
        expect({ name, type: failure.type }).toEqual({ name, type: 'DataError' });
        expect(failure.message).toMatch(message);
        expect(failure.message).toContain(`file=${file}`);
      }
      expect(attempts.filter((a) => a.attempt > 1)).toEqual([]);
      expect(committedBytes(config)).toEqual(before);
    });

    it('a warehouse path that is a file is a ConfigError, at once', async () => {
      const { dir, config } = setup([table('t')]);
      write(path.join(dir, 't', `${DAY1}.csv`), lines('id,v', '1,a'));
      write(path.join(dir, 'wh'), 'not a folder');
      const before = readFileSync(path.join(dir, 'wh'));
      attempts = [];

      expect((await runDataset(h, config, DAY1)).ok).toBe(false);
      const failure = await tableFailure(config, DAY1, 't');
      expect(failure.type).toBe('ConfigError');
      expect(failure.message).toBe(`${path.join(dir, 'wh')} is a file where the warehouse needs a folder (file=${path.join(dir, 'wh')})`);
      expect(attempts).toEqual([{ stage: 'plan', attempt: 1 }]);
      expect(readFileSync(path.join(dir, 'wh'))).toEqual(before);
      expect(() => writeConfig(dir, { dataset: config.dataset, warehouse: 'wh', tables: [table('t')] })).toThrow(/warehouse .*wh is not a folder/);
    });

    it('a warehouse deleted while the worker runs does not fail the new tables of other warehouses', async () => {
      const gone = setup([table('t')]);
      write(path.join(gone.dir, 't', `${DAY1}.csv`), lines('id,v', '1,a'));
      ok(await runDataset(h, gone.config, DAY1));
      rmSync(gone.config.warehouse, { recursive: true });

      const other = setup([table('first'), table('second')]);
      for (const name of ['first', 'second']) write(path.join(other.dir, name, `${DAY1}.csv`), lines('id,v', '1,a'));
      attempts = [];
      const out = await withTimeout(runDataset(h, other.config, DAY1), 30_000, () => `no result within 30 s; stage attempts: ${JSON.stringify(attempts)}`);
      for (const name of ['first', 'second']) expect(tableResult(out, name).counts).toEqual({ I: 1, U: 0, D: 0, X: 0, N: 0 });
      expect(attempts.filter((a) => a.attempt > 1)).toEqual([]);

      // The deleted warehouse's dataset starts afresh where it was, as after a restart of the worker.
      expect(tableResult(ok(await runDataset(h, gone.config, DAY1)), 't').counts).toEqual({ I: 1, U: 0, D: 0, X: 0, N: 0 });
    });

    it('a warehouse moved since its catalog was created is a ConfigError, at once, and the moved warehouse stays as it was', async () => {
      const { dir, config } = setup([table('t')]);
      for (const date of [DAY1, DAY2]) write(path.join(dir, 't', `${date}.csv`), lines('id,v', '1,a'));
      ok(await runDataset(h, config, DAY1));
      renameSync(path.join(dir, 'wh'), path.join(dir, 'moved'));
      const moved = writeConfig(dir, { dataset: config.dataset, warehouse: 'moved', tables: [table('t')] });
      const before = committedBytes(moved);
      attempts = [];

      const out = await withTimeout(runDataset(h, moved, DAY2), 30_000, () => `no refusal within 30 s; stage attempts: ${JSON.stringify(attempts)}`);
      expect(out.ok).toBe(false);
      const failure = await tableFailure(moved, DAY2, 't');
      expect(failure.type).toBe('ConfigError');
      expect(failure.message).toContain(
        `the catalog of warehouse ${moved.warehouse} keeps its data files in ${path.join(dir, 'wh', '_lake')}/, not ${path.join(moved.warehouse, '_lake')}/: ` +
          'a warehouse cannot be moved',
      );
      expect(attempts).toEqual([{ stage: 'plan', attempt: 1 }]);
      expect(committedBytes(moved)).toEqual(before);
    });

    it('a config whose table shape changed is refused at once, naming what changed, also on the only date', async () => {
      const columns = [
        { name: 'qty', type: 'integer' },
        { name: 'note', type: 'varchar' },
      ];
      const { dir, config } = setup([table('t', { columns })]);
      for (const date of [DAY1, DAY2]) write(path.join(dir, 't', `${date}.csv`), lines('id,qty,note,extra', '1,5,a,x', '2,6,b,y'));
      ok(await runDataset(h, config, DAY1));
      const before = committedBytes(config);
      const reconfigured = (over: object) => writeConfig(dir, { dataset: config.dataset, warehouse: 'wh', tables: [table('t', { columns, ...over })] });

      const refusal = async (changed: DatasetConfig, date: string) => {
        attempts = [];
        const out = await withTimeout(runDataset(h, changed, date), 30_000, () => `no refusal within 30 s; stage attempts: ${JSON.stringify(attempts)}`);
        expect(out.ok).toBe(false);
        const failure = await tableFailure(config, date, 't');
        expect(failure.type).toBe('StateError');
        expect(failure.message).toContain(`(latest ${DAY1})`);
        expect(failure.message).toContain('of changes, only non-key columns appended after the others are taken on');
        expect(failure.message).toContain(
          "Restore the table's config as committed (keys, columns, types, ignore list, mode), or run the table with the new config from its first date into a new warehouse",
        );
        // Refused by the plan, before any other stage; nothing committed changed.
        expect(attempts).toEqual([{ stage: 'plan', attempt: 1 }]);
        expect(committedBytes(config)).toEqual(before);
        expect(await committedDates(h.engine, config.warehouse, config.dataset, 't')).toEqual([DAY1]);
        return failure.message;
      };

      // The only date again with a column added between two committed ones (appended at the end, it
      // would be taken on: see schema-evolution.test.ts).
      expect(await refusal(reconfigured({ columns: [columns[0], { name: 'extra', type: 'varchar' }, columns[1]] }), DAY1)).toContain('column "extra" added (varchar)');
      const retyped = await refusal(reconfigured({ columns: [{ name: 'qty', type: 'bigint' }] }), DAY2);
      expect(retyped).toContain('column "note" removed');
      expect(retyped).toContain('column "qty" is now bigint (committed as integer)');
      expect(await refusal(reconfigured({ ignore: ['note'] }), DAY2)).toContain(': the keys or the ignore list changed.');
      expect(await refusal(reconfigured({ mode: 'changes', orderBy: [{ name: 'seq', type: 'bigint' }] }), DAY2)).toContain(
        ': mode: changes, where snapshots (full or delta) were committed.',
      );

      // The config as committed runs on.
      expect(tableResult(ok(await runDataset(h, reconfigured({}), DAY2)), 't').counts).toEqual({ I: 0, U: 0, D: 0, X: 0, N: 2 });
    });

    it('a table or dataset respelled in another case is refused at once: the catalog took it for the committed table', async () => {
      const { dir, config } = setup([table('Orders')]);
      for (const date of [DAY1, DAY2]) write(path.join(dir, 'Orders', `${date}.csv`), lines('id,v', '1,a', `2,${date}`));
      ok(await runDataset(h, config, DAY1));
      const before = committedBytes(config);
      const respelled = (dataset: string, name: string) =>
        writeConfig(dir, { dataset, warehouse: 'wh', tables: [table(name, { source: { format: 'csv', path: 'Orders/{date}.csv' } })] });

      // The old code ran it on the committed table, published it beside the committed exports (folder "orders"), and
      // then refused the date again with "the snapshot of 2024-01-01 was expired by retention".
      for (const changed of [respelled(config.dataset, 'orders'), respelled(config.dataset.toUpperCase(), 'Orders')]) {
        attempts = [];
        const out = await runDataset(h, changed, DAY2);
        expect(out.ok).toBe(false);
        const failure = await tableFailure(changed, DAY2, changed.tables[0].name);
        expect(failure.type).toBe('StateError');
        expect(failure.message).toContain(
          `the table was committed as ${config.dataset}.Orders (latest ${DAY1}) and is now spelled ${changed.dataset}.${changed.tables[0].name}: ` +
            'names match the catalog in any case, but the published folders and the sinks take the spelling, so nothing was run. ' +
            `Restore the spelling ${config.dataset}.Orders, or run the table under the new name from its first date into a new warehouse`,
        );
        expect(attempts).toEqual([{ stage: 'plan', attempt: 1 }]);
      }
      expect(committedBytes(config)).toEqual(before);
      expect(existsSync(path.join(config.warehouse, config.dataset.toUpperCase()))).toBe(false);
      expect(readdirSync(path.join(config.warehouse, config.dataset))).toEqual(['Orders']);

      // The committed spelling runs on.
      expect(tableResult(ok(await runDataset(h, respelled(config.dataset, 'Orders'), DAY2)), 'Orders').counts).toEqual({ I: 0, U: 1, D: 0, X: 0, N: 1 });
    });
  });

  it('extra columns are ignored, or refused with extraColumns: refuse', async () => {
    const { dir, config } = setup([table('lenient'), table('strict', { source: { format: 'csv', path: 'strict/{date}.csv', extraColumns: 'refuse' } })]);
    for (const name of ['lenient', 'strict']) write(path.join(dir, name, `${DAY1}.csv`), lines('id,v,w', '1,a,x'));

    const outcome = await runDataset(h, config, DAY1);
    expect(tableResult(outcome, 'lenient').counts).toEqual({ I: 1, U: 0, D: 0, X: 0, N: 0 });
    expect(await tableFailure(config, DAY1, 'strict')).toEqual({
      type: 'DataError',
      message: `source has column(s) not in the config: "w" (extraColumns: refuse) (dataset=${config.dataset} table=strict file=${path.join(dir, 'strict', `${DAY1}.csv`)} column=w)`,
    });
  });

  it('compressed CSV files (.gz, .zst) are read decompressed; another compression or a corrupt file fails naming it', async () => {
    const { dir, config } = setup([
      table('gz', { source: { format: 'csv', path: 'gz/{date}.csv.gz' } }),
      table('zst', { source: { format: 'csv', path: 'zst/{date}.csv.zst' } }),
      table('bz', { source: { format: 'csv', path: 'bz/{date}.csv.bz2' } }),
      table('corrupt', { source: { format: 'csv', path: 'corrupt/{date}.csv.gz' } }),
    ]);
    write(path.join(dir, 'gz', `${DAY1}.csv.gz`), gzipSync(lines('id,v', '1,a', '2,b')));
    mkdirSync(path.join(dir, 'zst'));
    const zst = path.join(dir, 'zst', `${DAY1}.csv.zst`);
    await h.engine.withSession((s) => s.run(`COPY (SELECT * FROM (VALUES (1, 'a'), (2, 'b')) t(id, v)) TO '${zst}' (FORMAT csv, HEADER true, COMPRESSION zstd)`));
    write(path.join(dir, 'bz', `${DAY1}.csv.bz2`), 'BZh91AY&SY');
    write(path.join(dir, 'corrupt', `${DAY1}.csv.gz`), lines('id,v', '1,a'));

    const outcome = await runDataset(h, config, DAY1);
    for (const name of ['gz', 'zst']) {
      expect(tableResult(outcome, name).counts).toEqual({ I: 2, U: 0, D: 0, X: 0, N: 0 });
      expect(await readRows(h.engine, path.join(config.warehouse, config.dataset, name, 'current.parquet'), 'id', ['KEY_HASH', 'NONKEY_HASH', 'OPERATION', 'EFF_START_DATE'])).toEqual([
        { id: 1, v: 'a' },
        { id: 2, v: 'b' },
      ]);
    }
    const context = (name: string, extension: string) => `(dataset=${config.dataset} table=${name} file=${path.join(dir, name, `${DAY1}.csv.${extension}`)})`;
    expect(await tableFailure(config, DAY1, 'bz')).toEqual({
      type: 'DataError',
      message: `the file's name says it is compressed with bzip2, which cannot be read; gzip (.gz) and zstd (.zst) files can ${context('bz', 'bz2')}`,
    });
    expect(await tableFailure(config, DAY1, 'corrupt')).toEqual({
      type: 'DataError',
      message: `the file is not valid gzip (named .gz): incorrect header check ${context('corrupt', 'gz')}`,
    });
  });

  it('a compressed file cut short (gzip, zstd; CSV or JSON) fails naming it; nothing is committed', async () => {
    // Before, DuckDB read such a file as far as it went (when the cut lay beyond the first MB cdcflow reads for a CSV header):
    // about half the rows were committed, exit 0.
    const { dir, config } = setup([
      table('gz', { source: { format: 'csv', path: 'gz/{date}.csv.gz' } }),
      table('zst', { source: { format: 'csv', path: 'zst/{date}.csv.zst' } }),
      table('json', { source: { format: 'json', path: 'json/{date}.json.gz', missingColumns: 'null' } }),
    ]);
    const rows = Array.from({ length: 200_000 }, (_, i) => `${i},v${i}`);
    const half = (bytes: Buffer) => bytes.subarray(0, bytes.length >> 1);
    const file = (name: string, extension: string) => path.join(dir, name, `${DAY1}.${extension}`);
    const text = (l: string[]) => `${l.join('\n')}\n`;
    write(file('gz', 'csv.gz'), half(gzipSync(text(['id,v', ...rows]))));
    write(file('json', 'json.gz'), half(gzipSync(text(rows.map((r) => JSON.stringify({ id: Number(r.split(',')[0]) }))))));
    mkdirSync(path.join(dir, 'zst'));
    const whole = path.join(dir, 'whole.csv.zst');
    await h.engine.withSession((s) => s.run(`COPY (SELECT i AS id, 'v' || i AS v FROM range(200000) t(i)) TO '${whole}' (FORMAT csv, HEADER true, COMPRESSION zstd)`));
    write(file('zst', 'csv.zst'), half(readFileSync(whole)));

    const outcome = await runDataset(h, config, DAY1);
    expect(outcome.ok).toBe(false);
    const context = (name: string, extension: string) => `(dataset=${config.dataset} table=${name} file=${file(name, extension)})`;
    expect(await tableFailure(config, DAY1, 'gz')).toEqual({ type: 'DataError', message: `the file is not valid gzip (named .gz): unexpected end of file ${context('gz', 'csv.gz')}` });
    expect(await tableFailure(config, DAY1, 'zst')).toEqual({ type: 'DataError', message: `the file is not valid zstd (named .zst): unexpected EOF ${context('zst', 'csv.zst')}` });
    expect(await tableFailure(config, DAY1, 'json')).toEqual({ type: 'DataError', message: `the file is not valid gzip (named .gz): unexpected end of file ${context('json', 'json.gz')}` });
    for (const name of ['gz', 'zst', 'json']) expect(existsSync(path.join(config.warehouse, config.dataset, name, 'current.parquet'))).toBe(false);
  });

  it('CSV files in UTF-16 or Latin-1 are read with csv.encoding; a byte-order mark that disagrees, or Windows-1252 bytes, fail naming the file', async () => {
    const encoded = (name: string, encoding?: string) =>
      table(name, { columns: [{ name: 'nämë', type: 'varchar' }], source: { format: 'csv', path: `${name}/{date}.csv`, ...(encoding ? { csv: { encoding } } : {}) } });
    const { dir, config } = setup([encoded('latin', 'latin-1'), encoded('utf16', 'utf-16'), encoded('utf16big', 'utf-16'), encoded('utf16unsaid'), encoded('windows', 'latin-1')]);
    const utf16 = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const file = (name: string) => path.join(dir, name, `${DAY1}.csv`);
    write(file('latin'), Buffer.from(lines('id,nämë', '1,café', '2,naïve'), 'latin1'));
    write(file('utf16'), utf16(lines('id,nämë', '1,café', '2,naïve')));
    write(file('utf16big'), Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(lines('id,nämë', '1,café'), 'utf16le').swap16()]));
    write(file('utf16unsaid'), utf16(lines('id,nämë', '1,café')));
    write(file('windows'), Buffer.concat([Buffer.from(lines('id,nämë'), 'latin1'), Buffer.from([0x31, 0x2c, 0x93, 0x71, 0x94, 0x0a])]));

    const outcome = await runDataset(h, config, DAY1);
    for (const name of ['latin', 'utf16']) {
      expect(tableResult(outcome, name).counts).toEqual({ I: 2, U: 0, D: 0, X: 0, N: 0 });
      expect(await readRows(h.engine, path.join(config.warehouse, config.dataset, name, 'current.parquet'), 'id', ['KEY_HASH', 'NONKEY_HASH', 'OPERATION', 'EFF_START_DATE'])).toEqual([
        { id: 1, nämë: 'café' },
        { id: 2, nämë: 'naïve' },
      ]);
    }
    const context = (name: string) => `(dataset=${config.dataset} table=${name} file=${file(name)})`;
    expect(await tableFailure(config, DAY1, 'utf16big')).toEqual({
      type: 'DataError',
      message: `the file starts with a UTF-16 big-endian byte-order mark; only little-endian UTF-16 can be read (csv.encoding: utf-16) ${context('utf16big')}`,
    });
    expect(await tableFailure(config, DAY1, 'utf16unsaid')).toEqual({
      type: 'DataError',
      message: `the file starts with a UTF-16 byte-order mark, but csv.encoding is utf-8; set csv.encoding: utf-16 ${context('utf16unsaid')}`,
    });
    expect(await tableFailure(config, DAY1, 'windows')).toEqual({
      type: 'DataError',
      message: expect.stringContaining('File is not latin-1 encoded (it holds bytes 0x80-0x9F, which Windows-1252 uses for characters such as € and curly quotes; convert the file to UTF-8)'),
    });
  });

  it('a file still being written while its batch is read is read again once whole, not committed in part', async () => {
    const { dir, config } = setup([table('growing')]);
    const file = path.join(dir, 'growing', `${DAY1}.csv`);
    write(file, lines('id,v', ...Array.from({ length: 1000 }, (_, i) => `${i + 1},v`)));
    let next = 1001;
    const writer = setInterval(() => {
      try {
        appendFileSync(file, lines(...Array.from({ length: 50 }, () => `${next++},v`)));
      } catch {
        clearInterval(writer); // the test's folder is gone (it timed out)
      }
    }, 2);
    onStage = (stage, attempt) => {
      if (stage === 'hash' && attempt === 2) clearInterval(writer);
    };
    attempts = [];
    try {
      const outcome = await runDataset(h, config, DAY1);
      const rows = next - 1;
      expect(tableResult(outcome, 'growing').counts).toEqual({ I: rows, U: 0, D: 0, X: 0, N: 0 });
      expect(attempts.filter((a) => a.stage === 'hash').map((a) => a.attempt)).toEqual([1, 2]);
    } finally {
      clearInterval(writer);
      onStage = undefined;
    }
  });

  it('a source with readyFile is read only once that file exists, and the file is not part of the batch', async () => {
    const ready = (name: string, more: object = {}) => table(name, { source: { format: 'csv', path: `${name}/{date}/*`, readyFile: `${name}/{date}/_SUCCESS`, ...more } });
    const { dir, config } = setup([ready('marked'), ready('waiting', { waitForFiles: '2s' })]);
    for (const name of ['marked', 'waiting']) write(path.join(dir, name, DAY1, 'part-1.csv'), lines('id,v', '1,a', '2,b'));

    const first = await runDataset(h, config, DAY1);
    expect(first.ok).toBe(false);
    const marker = (name: string) => path.join(dir, name, DAY1, '_SUCCESS');
    expect(await tableFailure(config, DAY1, 'marked')).toEqual({
      type: 'DataError',
      message: `the batch is not complete: no file matches source.readyFile ${marker('marked')}, which the export writes last (dataset=${config.dataset} table=marked file=${marker('marked')} businessDate=${DAY1})`,
    });
    expect(await tableFailure(config, DAY1, 'waiting')).toEqual({
      type: 'DataError',
      message: `the ready file ${marker('waiting')} (source.readyFile) did not appear after waiting 2s (source.waitForFiles) (dataset=${config.dataset} table=waiting businessDate=${DAY1})`,
    });

    // The export ends by writing its (empty) marker: the batch is its other files.
    for (const name of ['marked', 'waiting']) write(marker(name), '');
    const second = await runDataset(h, config, DAY1);
    for (const name of ['marked', 'waiting']) expect(tableResult(second, name)).toMatchObject({ counts: { I: 2, U: 0, D: 0, X: 0, N: 0 } });
  });

  it('a delta with readyFile: a date left out is named by its data file, not by its ready file', async () => {
    // Before, the ready file sorted first and was named as the batch: (…/2024-01-02/_SUCCESS).
    const { dir, config } = setup([table('r', { mode: 'delta', source: { format: 'csv', path: 'r/{date}/*', readyFile: 'r/{date}/_SUCCESS' } })]);
    for (const date of [DAY1, DAY2, DAY3]) {
      write(path.join(dir, 'r', date, 'part-1.csv'), lines('id,v', `1,${date}`));
      write(path.join(dir, 'r', date, '_SUCCESS'), '');
    }
    ok(await runDataset(h, config, DAY1));
    expect((await runDataset(h, config, DAY3)).ok).toBe(false);
    expect((await tableFailure(config, DAY3, 'r')).message).toContain(
      `the source has a batch for ${DAY2} (${path.join(dir, 'r', DAY2, 'part-1.csv')}), after the latest committed date before ${DAY3} (${DAY1})`,
    );
  });

  describe('the mass-delete guard', () => {
    it('refuses an empty snapshot and a 60% delete with the counts; --allow-deletes applies them and the memo says so', async () => {
      const { dir, config } = setup([table('empty'), table('sixty')]);
      const keys = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `${from + i},v${from + i}`);
      write(path.join(dir, 'empty', `${DAY1}.csv`), lines('id,v', ...keys(3)));
      write(path.join(dir, 'sixty', `${DAY1}.csv`), lines('id,v', ...keys(10)));
      ok(await runDataset(h, config, DAY1));
      const before = committedBytes(config);
      write(path.join(dir, 'empty', `${DAY2}.csv`), lines('id,v'));
      write(path.join(dir, 'sixty', `${DAY2}.csv`), lines('id,v', ...keys(4)));

      expect((await runDataset(h, config, DAY2)).ok).toBe(false);
      expect(await tableFailure(config, DAY2, 'empty')).toEqual({
        type: 'DataError',
        message: expect.stringMatching(/^the full snapshot has no rows; applying it would delete all 3 keys of the current state; nothing was written\. If this is intended, run again with --allow-deletes, /),
      });
      expect(await tableFailure(config, DAY2, 'sixty')).toEqual({
        type: 'DataError',
        message: expect.stringMatching(/^the full snapshot would delete 6 of 10 keys \(60%\), more than maxDeleteShare 0.5 \(50%\); nothing was written/),
      });
      expect(committedBytes(config)).toEqual(before);

      const { handle } = await startDatasetRun(h.client, h.settings, { config, businessDate: DAY2, allowDeletes: true });
      const result = await handle.result();
      expect(result.tables.map((t) => t.status === 'completed' && t.result.counts)).toEqual([
        { I: 0, U: 0, D: 3, X: 0, N: 0 },
        { I: 0, U: 0, D: 6, X: 0, N: 4 },
      ]);
      expect((await handle.describe()).memo).toMatchObject({ allowDeletes: true });
      const childMemo = (await h.client.workflow.getHandle(tableWorkflowId(config.dataset, DAY2, 'sixty')).describe()).memo;
      expect(childMemo).toMatchObject({ deleteGuardOverridden: expect.stringMatching(/delete 6 of 10 keys/) });
    });

    it('a share set in the config lets a large delete through', async () => {
      const { dir, config } = setup([table('t', { maxDeleteShare: 0.8 })]);
      write(path.join(dir, 't', `${DAY1}.csv`), lines('id,v', '1,a', '2,b', '3,c', '4,d', '5,e'));
      ok(await runDataset(h, config, DAY1));
      write(path.join(dir, 't', `${DAY2}.csv`), lines('id,v', '1,a', '2,b'));
      expect(tableResult(ok(await runDataset(h, config, DAY2)), 't').counts).toEqual({ I: 0, U: 0, D: 3, X: 0, N: 2 });
    });
  });
});

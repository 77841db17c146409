/**
 * Config safety: every problem of a bad config is reported with its field path and line (by the
 * loader and by `cdcflow validate`), odd identifiers are quoted all the way through a real run,
 * names and paths that could escape the warehouse are rejected, reserved and duplicate column
 * names are rejected, and `cdcflow schema` prints the JSON Schema.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { checkConfigText, type ConfigProblem, loadConfig } from '../../src/config/load';
import { ConfigError } from '../../src/errors';
import { type Harness, readRows, runDataset, startHarness, tableResult, tempDir, uniqueDataset, writeConfig } from '../support/harness';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js');

/** Runs the built CLI; returns its exit code and output instead of throwing on failure. */
function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [CLI, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number | null; stdout: string; stderr: string };
    return { status: e.status ?? -1, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A valid table; tests override parts of it. */
const table = (over: object = {}) => ({
  name: 't',
  keys: [{ name: 'id', type: 'integer' }],
  columns: [{ name: 'v', type: 'varchar' }],
  source: { format: 'csv', path: 't.csv' },
  ...over,
});
const dataset = (over: object = {}) => ({ dataset: 'ds', warehouse: 'wh', tables: [table()], ...over });

/** The problems of a config given as an object (written as YAML by the yaml library). */
function problemsOf(file: object): Omit<ConfigProblem, 'line'>[] {
  return checkConfigText(stringify(file)).problems.map(({ path: p, message }) => ({ path: p, message }));
}

describe('config safety', () => {
  const dirs: string[] = [];
  const newDir = () => {
    const d = tempDir('cdcflow-cfg-');
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const BAD_CONFIG = [
    'dataset: ds', //                           1
    'warehouse: wh', //                         2
    'tables:', //                               3
    '  - name: a', //                           4
    '    keys:', //                             5
    '      - { name: id, type: int }', //       6  bad type
    '    columns:', //                          7
    '      - { name: v, type: text }', //       8  bad type
    '    source: { format: csv, path: a.csv }', // 9
    '  - name: b', //                           10 no keys
    '    columns: []', //                       11
    '    source: { format: csv, path: b.csv }', // 12
    '',
  ].join('\n');

  it('the loader reports every problem with its field path and line', () => {
    const dir = newDir();
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, BAD_CONFIG);

    const { problems, file: parsed } = checkConfigText(BAD_CONFIG);
    expect(parsed).toBeUndefined();
    expect(problems).toEqual([
      { path: 'tables[0].keys[0].type', line: 6, message: expect.stringMatching(/must be one of varchar, integer/) },
      { path: 'tables[0].columns[0].type', line: 8, message: expect.stringMatching(/must be one of varchar, integer/) },
      { path: 'tables[1].keys', line: 10, message: expect.any(String) },
    ]);

    let thrown: unknown;
    try {
      loadConfig(file);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const lines = (thrown as Error).message.split('\n');
    expect(lines[0]).toBe('invalid config:');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${escape(file)}:6: tables\\[0\\]\\.keys\\[0\\]\\.type: must be one of`)),
      expect.stringMatching(new RegExp(`^${escape(file)}:8: tables\\[0\\]\\.columns\\[0\\]\\.type: must be one of`)),
      expect.stringMatching(new RegExp(`^${escape(file)}:10: tables\\[1\\]\\.keys: `)),
    ]);
  });

  it('YAML syntax errors are all reported, each with its line', () => {
    const { problems } = checkConfigText('dataset: ds\nwarehouse: wh\ndataset: other\ntables: []\nwarehouse: x\n');
    expect(problems).toEqual([
      { path: '', line: 3, message: 'YAML syntax: Map keys must be unique' },
      { path: '', line: 5, message: 'YAML syntax: Map keys must be unique' },
    ]);
  });

  it('`cdcflow validate` exits 1 and lists every problem; a valid file exits 0', () => {
    const dir = newDir();
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, BAD_CONFIG);
    const out = cli(['validate', bad]);
    expect(out.status).toBe(1);
    const lines = out.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^${escape(bad)}:6: tables\\[0\\]\\.keys\\[0\\]\\.type: must be one of`)),
      expect.stringMatching(new RegExp(`^${escape(bad)}:8: tables\\[0\\]\\.columns\\[0\\]\\.type: must be one of`)),
      expect.stringMatching(new RegExp(`^${escape(bad)}:10: tables\\[1\\]\\.keys: `)),
      `3 problem(s) in ${bad}`,
    ]);

    const good = path.join(dir, 'good.yaml');
    writeFileSync(good, stringify(dataset()));
    const ok = cli(['validate', good]);
    expect(ok).toEqual({ status: 0, stdout: `${good}: valid\n`, stderr: '' });
  });

  it('`cdcflow schema` prints the JSON Schema of the config', () => {
    const out = cli(['schema']);
    expect(out.status).toBe(0);
    const schema = JSON.parse(out.stdout) as { type: string; properties: Record<string, { type?: string; items?: { properties?: object } }>; required?: string[] };
    expect(schema.type).toBe('object');
    expect(schema.properties.tables).toMatchObject({ type: 'array' });
    expect(Object.keys(schema.properties.tables.items?.properties ?? {})).toEqual(expect.arrayContaining(['name', 'keys', 'columns', 'ignore', 'source', 'mode']));
    expect(schema.required).toEqual(expect.arrayContaining(['dataset', 'warehouse', 'tables']));
  });

  it('table and dataset names that are not safe path components are rejected', () => {
    for (const name of ["it's", 'a"b', 'a/b', '..', '../x', 'a\\b', '.hidden', '']) {
      expect(problemsOf(dataset({ tables: [table({ name })] }))).toEqual([
        { path: 'tables[0].name', message: expect.stringMatching(/must start with a letter and hold only letters, digits, _ and -/) },
      ]);
      expect(problemsOf(dataset({ dataset: name }))).toEqual([
        { path: 'dataset', message: expect.stringMatching(/must start with a letter and hold only letters, digits, _ and -/) },
      ]);
    }
    // Table names become folder names, and folders are case-insensitive on some systems.
    expect(problemsOf(dataset({ tables: [table({ name: 'Orders' }), table({ name: 'orders' })] }))).toEqual([
      { path: 'tables[1].name', message: 'duplicates table "Orders"' },
    ]);
  });

  it('source paths and a warehouse with ".." segments are rejected, naming the field', () => {
    for (const p of ['../../etc/passwd', 'data/../x.csv', 'data\\..\\x.csv', '..']) {
      expect(problemsOf(dataset({ tables: [table({ source: { format: 'csv', path: p } })] }))).toEqual([
        { path: 'tables[0].source.path', message: 'must not contain ".." segments' },
      ]);
      expect(problemsOf(dataset({ warehouse: p }))).toEqual([{ path: 'warehouse', message: 'must not contain ".." segments' }]);
    }
    // ".." inside a name is not a segment.
    expect(problemsOf(dataset({ warehouse: 'wh..old', tables: [table({ source: { format: 'csv', path: 'x..y.csv' } })] }))).toEqual([]);
  });

  it('reserved column names are rejected in any case', () => {
    for (const name of ['OPERATION', 'operation', 'key_hash', 'Key_Hash', 'EFF_START_DATE', 'eff_start_date', 'nonkey_hash']) {
      expect(problemsOf(dataset({ tables: [table({ columns: [{ name, type: 'varchar' }] })] }))).toEqual([
        { path: 'tables[0].columns[0].name', message: expect.stringMatching(/is reserved for cdcflow's own columns/) },
      ]);
      expect(problemsOf(dataset({ tables: [table({ keys: [{ name, type: 'varchar' }] })] }))).toEqual([
        { path: 'tables[0].keys[0].name', message: expect.stringMatching(/is reserved/) },
      ]);
    }
  });

  it('column names that differ only in case are duplicates; ignore must name a non-key column', () => {
    expect(
      problemsOf(dataset({ tables: [table({ columns: [{ name: 'Amount', type: 'double' }, { name: 'amount', type: 'double' }] })] })),
    ).toEqual([{ path: 'tables[0].columns[1].name', message: 'duplicates column "Amount" (names are case-insensitive)' }]);
    expect(problemsOf(dataset({ tables: [table({ columns: [{ name: 'ID', type: 'varchar' }] })] }))).toEqual([
      { path: 'tables[0].columns[0].name', message: 'duplicates column "id" (names are case-insensitive)' },
    ]);
    expect(problemsOf(dataset({ tables: [table({ ignore: ['nope'] })] }))).toEqual([
      { path: 'tables[0].ignore[0]', message: '"nope" is not one of the table\'s non-key columns' },
    ]);
    // A key column cannot be ignored either.
    expect(problemsOf(dataset({ tables: [table({ ignore: ['id'] })] }))).toEqual([
      { path: 'tables[0].ignore[0]', message: '"id" is not one of the table\'s non-key columns' },
    ]);
    expect(problemsOf(dataset({ tables: [table({ ignore: ['V'] })] }))).toEqual([]);
  });

  describe('odd column names end to end', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness();
    });
    afterAll(async () => {
      await h?.stop();
    });

    it('columns named `it\'s` and `we"ird; DROP TABLE x; --` are quoted everywhere', async () => {
      const weird = 'we"ird; DROP TABLE x; --';
      const dir = newDir();
      const config = writeConfig(dir, {
        dataset: uniqueDataset('cfg'),
        warehouse: 'wh',
        tables: [
          {
            name: 'odd',
            keys: [{ name: "it's", type: 'integer' }],
            columns: [
              { name: weird, type: 'integer' },
              { name: 'plain', type: 'varchar' },
            ],
            ignore: ['plain'],
            source: { format: 'csv', path: 'src/{date}.csv' },
          },
        ],
      });
      mkdirSync(path.join(dir, 'src'));
      const header = `it's,"we""ird; DROP TABLE x; --",plain`;
      const day = (date: string, rows: string[]) => writeFileSync(path.join(dir, 'src', `${date}.csv`), [header, ...rows, ''].join('\n'));
      day('2024-01-01', ['1,10,a', '2,20,b']);
      day('2024-01-02', ['1,11,a', '2,20,c', '3,30,d']);

      expect(tableResult(await runDataset(h, config, '2024-01-01'), 'odd').counts).toEqual({ I: 2, U: 0, D: 0, X: 0, N: 0 });
      const t = tableResult(await runDataset(h, config, '2024-01-02'), 'odd');
      expect(t.counts).toEqual({ I: 1, U: 1, D: 0, X: 0, N: 1 });
      const current = path.join(config.warehouse, config.dataset, 'odd', 'current.parquet');
      expect(t.currentPath).toBe(current);
      expect(await readRows(h.engine, current, `"it's"`)).toEqual([
        { "it's": 1, [weird]: 11, plain: 'a', OPERATION: 'U', EFF_START_DATE: '2024-01-02' },
        // plain is ignored: an N row takes the batch's value.
        { "it's": 2, [weird]: 20, plain: 'c', OPERATION: 'N', EFF_START_DATE: '2024-01-01' },
        { "it's": 3, [weird]: 30, plain: 'd', OPERATION: 'I', EFF_START_DATE: '2024-01-02' },
      ]);

      // The error paths quote them too: a cast failure in the odd column, a duplicate odd key.
      day('2024-01-03', ['1,eleven,a']);
      const cast = await runDataset(h, config, '2024-01-03');
      expect(cast.ok).toBe(false);
      expect(cast.ok ? '' : cast.error).toContain(`value "eleven" in column "${weird}" does not convert exactly to integer`);
      day('2024-01-03', ['1,11,a', '1,12,b']);
      const dup = await runDataset(h, config, '2024-01-03');
      expect(dup.ok).toBe(false);
      expect(dup.ok ? '' : dup.error).toMatch(/duplicate key \(it's=1\) in the batch \(.*row 1 and .*row 2\)/);
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

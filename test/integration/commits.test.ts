/**
 * Commits that many actors can share (DuckLake): two dates of one table run at once by two
 * worker processes never both commit on one base; the writing process killed at every step of
 * the commit and publish leaves the tables and the published files old or new, never between;
 * an abandoned run leaves nothing where readers look; which dates can be run again.
 *
 * Needs dist/ (the test script builds it; run `npm run build` when running jest directly).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { startDatasetRun } from '../../src/client/start-run';
import { Engine } from '../../src/engine/duckdb';
import { generate, type GenerateResult } from '../../src/generator/generate';
import { engineSettings, type TemporalSettings } from '../../src/settings';
import { historyLakeFolder, withCatalog } from '../../src/warehouse/catalog';
import { commitSnapshots, tableSnapshots } from '../../src/warehouse/commits';
import { tableLayout } from '../../src/warehouse/layout';
import { sensitiveLayout } from '../../src/warehouse/sensitive';
import { committedDates, failedTable, generatedConfig, type Harness, runDataset, startHarness, tableResult, tempDir, uniqueDataset, writeConfig, writeCsv } from '../support/harness';
import { cdcflow } from '../support/cli';
import { lockTable, psql } from '../support/postgres';
import { activityStarts, killAllWorkers, sigkill, spawnWorker, withTimeout } from '../support/worker-process';
import { datasetWorkflowId, tableWorkflowId } from '../../src/workflows/ids';

const TABLE = 'records';
const [D1, D2, D3] = ['2024-01-01', '2024-01-02', '2024-01-03'];
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');

describe('commits', () => {
  let h: Harness;
  let dir: string;
  let gen: GenerateResult;

  beforeAll(async () => {
    h = await startHarness();
    dir = tempDir('cdcflow-commits-');
    gen = await generate({ outDir: path.join(dir, 'gen'), initial: 20_000, keys: 2, nonkeys: 3, seed: 3 });
  });
  afterAll(async () => {
    await killAllWorkers();
    await h?.stop();
  });

  /** The generated config under a new dataset and warehouse; `day` picks the input folder. */
  function configFor(name: string) {
    const dataset = uniqueDataset(name);
    const warehouse = path.join(dir, `wh-${dataset}`);
    return { dataset, warehouse, ...generatedConfig(gen, dataset, warehouse, 3) };
  }

  const expectedDay2 = () => ({ I: gen.expected.inserts, U: gen.expected.updates, D: gen.expected.deletes, X: 0, N: gen.expected.unchanged });

  /** Published bytes of a table: current and every history partition (absent: undefined). */
  function published(warehouse: string, dataset: string): Record<string, string | undefined> {
    const layout = tableLayout(warehouse, dataset, TABLE);
    const read = (f: string) => (existsSync(f) ? readFileSync(f).toString('base64') : undefined);
    return { current: read(layout.current), ...Object.fromEntries([D1, D2, D3].map((d) => [d, read(layout.history(d))])) };
  }

  /** Files under the readers' folder of a table that are not published outputs. */
  function strayFiles(warehouse: string, dataset: string): string[] {
    const root = tableLayout(warehouse, dataset, TABLE).root;
    if (!existsSync(root)) return [];
    return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(
      (f) => !/^(current\.parquet|_published\.json|history|history\/eff_start_date=\d{4}-\d{2}-\d{2}(\/data\.parquet)?)$/.test(f),
    );
  }

  /**
   * Replays the published history in date order: an I only for an absent key, a U or D only for
   * a present one; the result must be the published current state (keys and non-key hashes).
   */
  async function assertHistoryReplaysToCurrent(warehouse: string, dataset: string): Promise<void> {
    const layout = tableLayout(warehouse, dataset, TABLE);
    const history = await h.engine.withSession((s) =>
      s.rows<{ d: string; op: string; k: string; n: string }>(
        `SELECT CAST(eff_start_date AS VARCHAR) AS d, OPERATION AS op, CAST(KEY_HASH AS VARCHAR) AS k, CAST(NONKEY_HASH AS VARCHAR) AS n ` +
          `FROM read_parquet('${path.join(layout.historyRoot, '*', '*.parquet')}', hive_partitioning = true) ORDER BY d, k`,
      ),
    );
    const state = new Map<string, string>();
    for (const { d, op, k, n } of history) {
      if (op === 'I' && state.has(k)) throw new Error(`${d}: I for key ${k}, which is present`);
      if (op !== 'I' && !state.has(k)) throw new Error(`${d}: ${op} for key ${k}, which is absent`);
      if (op === 'D') state.delete(k);
      else state.set(k, n);
    }
    const current = await h.engine.withSession((s) =>
      s.rows<{ k: string; n: string }>(`SELECT CAST(KEY_HASH AS VARCHAR) AS k, CAST(NONKEY_HASH AS VARCHAR) AS n FROM '${layout.current}'`),
    );
    expect(current.length).toBe(state.size);
    for (const { k, n } of current) expect(state.get(k)).toBe(n);
  }

  /** `cdcflow run` as a user runs it: exit code and output. */
  function cliRun(configFile: string, date: string, input: string, taskQueue: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, 'run', '--config', configFile, '--date', date, '--input', input], {
        env: { ...process.env, CDCFLOW_TASK_QUEUE: taskQueue, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.once('exit', (code) => resolve({ code, out }));
    });
  }

  // The default SQLite catalog (worker processes of one machine) and PostgreSQL (machines sharing a warehouse).
  it.each([
    ['a SQLite catalog', undefined],
    ['a PostgreSQL catalog', process.env.CDCFLOW_TEST_PG_URL],
  ])('two dates run at once by two workers on %s: never both on one base; history replays to the current state', async (label, catalogUrl) => {
    if (label.includes('PostgreSQL') && !catalogUrl) throw new Error('CDCFLOW_TEST_PG_URL is not set (the test setup starts PostgreSQL)');
    const input = (day: string) => path.join(path.dirname(gen.files.config), day);
    const taskQueue = `test-commits-${uniqueDataset('q')}`;
    const env: Record<string, string> = catalogUrl ? { CDCFLOW_CATALOG_URL: catalogUrl } : {};
    const workers = await Promise.all([1, 2].map((n) => spawnWorker(taskQueue, path.join(dir, `tmp${n}`), { env })));
    const engine = await Engine.create({ ...engineSettings(), catalogUrl });
    const settings: TemporalSettings = { ...h.settings, taskQueue };
    try {
      for (let round = 0; round < 3; round++) {
        const c = configFor(`race${round}`);
        tableResult(await runDataset({ client: h.client, settings }, c.at('day1'), D1), TABLE);
        // D2 and D3 both bring day 2's data: if both committed on D1, day 2's changes would be applied twice.
        const [r2, r3] = await Promise.all([cliRun(c.file, D2, input('day2'), taskQueue, env), cliRun(c.file, D3, input('day2'), taskQueue, env)]);

        const dates = await committedDates(engine, c.warehouse, c.dataset, TABLE);
        expect(r3.code).toBe(0);
        if (r2.code === 0) {
          // D2 committed first and D3 was diffed on it (or rebased onto it).
          expect(dates).toEqual([D1, D2, D3]);
        } else {
          // D3 committed first: D2 is older than the latest and is refused, naming both dates.
          expect(r2.out).toMatch(new RegExp(`business date ${D2} is older than the latest committed date ${D3}`));
          expect(dates).toEqual([D1, D3]);
        }
        await assertHistoryReplaysToCurrent(c.warehouse, c.dataset);
        expect(existsSync(path.join(c.warehouse, 'catalog.sqlite'))).toBe(!catalogUrl);
      }
    } finally {
      await Promise.all(workers.map(sigkill));
      await engine.close();
    }
  }, 240_000);

  it('two dates that both planned on one base before either committed: exactly one commits on it', async () => {
    // Hold every first write attempt until both runs have reached their write: both planned
    // and diffed on D1, so both try to commit on it at once (the race, made certain).
    let arrived = 0;
    let release!: () => void;
    const bothAtWrite = new Promise<void>((resolve) => (release = resolve));
    const racing = await startHarness({
      beforeStage: async (stage, attempt) => {
        if (stage !== 'write' || attempt !== 1) return;
        if (++arrived === 2) release();
        await bothAtWrite;
      },
    });
    try {
      const c = configFor('barrier');
      tableResult(await runDataset(h, c.at('day1'), D1), TABLE);
      // D3 brings day 2's data too: committed on D1 as well, it would apply day 2's changes twice.
      // Runs of one dataset take turns; these skip the queue (as runs from another deployment
      // of cdcflow would), so that the commit itself must refuse the stale base.
      const bypass = { holdsTurn: true };
      const [r2, r3] = await Promise.all([runDataset(racing, c.at('day2'), D2, undefined, bypass), runDataset(racing, c.at('day2'), D3, undefined, bypass)]);
      const d3 = tableResult(r3, TABLE);
      if (r2.ok) {
        // D2 won; D3 lost its base and was diffed again on D2.
        expect(d3.rebases).toBe(1);
        expect(d3.baseDate).toBe(D2);
        expect(await committedDates(h.engine, c.warehouse, c.dataset, TABLE)).toEqual([D1, D2, D3]);
      } else {
        // D3 won; D2 is then older than the latest and is refused.
        expect(r2.error).toMatch(new RegExp(`business date ${D2} is older than the latest committed date ${D3}`));
        expect(await committedDates(h.engine, c.warehouse, c.dataset, TABLE)).toEqual([D1, D3]);
      }
      await assertHistoryReplaysToCurrent(c.warehouse, c.dataset);
    } finally {
      await racing.stop();
    }
  });

  describe('the writing process killed at each step of the commit and publish', () => {
    const steps = ['commit', 'commit:before-commit', 'publish', `publish:history:${D2}`, 'publish:current', 'publish:manifest', 'retention'];
    let reference: { old: Record<string, string | undefined>; new: Record<string, string | undefined> };

    beforeAll(async () => {
      const c = configFor('crash-ref');
      tableResult(await runDataset(h, c.at('day1'), D1), TABLE);
      const old = published(c.warehouse, c.dataset);
      tableResult(await runDataset(h, c.at('day2'), D2), TABLE);
      reference = { old, new: published(c.warehouse, c.dataset) };
      expect(reference.new.current).not.toEqual(reference.old.current);
    });

    /** One crash scenario: day 2 killed at `step`, checked at the kill and after another worker finished it. */
    async function crashAt(step: string): Promise<void> {
      const c = configFor('crash');
      tableResult(await runDataset(h, c.at('day1'), D1), TABLE);
      const taskQueue = `test-crash-${c.dataset}`;
      const crashing = await spawnWorker(taskQueue, path.join(dir, `tmp-${c.dataset}`), { killAtStep: step });
      const { handle } = await startDatasetRun(h.client, { ...h.settings, taskQueue }, { config: c.at('day2'), businessDate: D2 });
      await crashing.exited;
      expect(crashing.child.signalCode).toBe('SIGKILL');

      // At the instant of the kill: the catalog holds D1 or D1+D2, the files the old or the new
      // state (byte for byte; the current file and a history partition each one or the other).
      const dates = await committedDates(h.engine, c.warehouse, c.dataset, TABLE);
      expect([[D1], [D1, D2]]).toContainEqual(dates);
      const now = published(c.warehouse, c.dataset);
      expect([reference.old.current, reference.new.current]).toContain(now.current);
      expect(now[D1]).toEqual(reference.old[D1]);
      expect([undefined, reference.new[D2]]).toContain(now[D2]);
      if (dates.length === 1) expect(now).toEqual(reference.old);
      expect(strayFiles(c.warehouse, c.dataset)).toEqual([]);

      // Another worker takes over: the run completes with exactly the uninterrupted outputs.
      const takeover = await spawnWorker(taskQueue, path.join(dir, `tmp-${c.dataset}`));
      try {
        expect(tableResult({ ok: true, result: await handle.result() }, TABLE).counts).toEqual(expectedDay2());
      } finally {
        await sigkill(takeover);
      }
      expect(await committedDates(h.engine, c.warehouse, c.dataset, TABLE)).toEqual([D1, D2]);
      expect(published(c.warehouse, c.dataset)).toEqual(reference.new);
      expect(strayFiles(c.warehouse, c.dataset)).toEqual([]);
    }

    it(`at every step (${steps.join(', ')}): old or new state at once, the new one after the restart`, async () => {
      // The scenarios wait mostly (worker start, heartbeat timeout): run four side by side.
      const failed: string[] = [];
      const queue = [...steps];
      const lane = async () => {
        for (let step = queue.shift(); step; step = queue.shift()) {
          await crashAt(step).catch((err: Error) => failed.push(`at ${step}: ${err.message}`));
        }
      };
      await Promise.all([lane(), lane(), lane(), lane()]);
      expect(failed).toEqual([]);
    }, 300_000);
  });

  it('an abandoned run leaves nothing where readers look, and its date can be run again', async () => {
    const c = configFor('abandon');
    tableResult(await runDataset(h, c.at('day1'), D1), TABLE);
    const before = published(c.warehouse, c.dataset);
    const taskQueue = `test-abandon-${c.dataset}`;
    const crashing = await spawnWorker(taskQueue, path.join(dir, `tmp-${c.dataset}`), { killAtStep: 'commit:before-commit' });
    const { handle } = await startDatasetRun(h.client, { ...h.settings, taskQueue }, { config: c.at('day2'), businessDate: D2 });
    await crashing.exited;
    await handle.terminate('abandoned by the test');

    expect(published(c.warehouse, c.dataset)).toEqual(before);
    expect(strayFiles(c.warehouse, c.dataset)).toEqual([]);

    // What the abandoned run wrote (uncommitted data files, stage files) goes with `cdcflow vacuum`.
    const lakeFiles = () => readdirSync(path.join(c.warehouse, '_lake'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet'));
    const work = path.join(c.warehouse, '_work');
    const filesBefore = lakeFiles().length;
    expect(readdirSync(work, { recursive: true }).length).toBeGreaterThan(0);
    // Aged past the cut-off: DuckLake compares whole seconds, and the run's files may be from this one.
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
    for (const f of lakeFiles()) utimesSync(path.join(c.warehouse, '_lake', f), hoursAgo, hoursAgo);
    // Stage files and their folders too: vacuum takes a stage folder by its newest time.
    for (const f of readdirSync(work, { recursive: true, encoding: 'utf8' })) utimesSync(path.join(work, f), hoursAgo, hoursAgo);
    utimesSync(work, hoursAgo, hoursAgo);
    // A cut-off of 0 would take the files a run is about to commit for orphans.
    const now = await cdcflow(['vacuum', '--config', c.file, '--older-than-hours', '0'], {});
    expect({ code: now.code, stderr: now.stderr }).toMatchObject({ code: 1, stderr: expect.stringContaining('must be at least 1') });
    const vacuum = await cdcflow(['vacuum', '--config', c.file, '--older-than-hours', '1'], {});
    expect(vacuum.code).toBe(0);
    expect(vacuum.stdout).toMatch(/: [1-9]\d* uncommitted data file\(s\), [1-9]\d* stage or temporary file\(s\) removed/);
    expect(lakeFiles().length).toBeLessThan(filesBefore);
    // Day 2's history folder held only the abandoned run's file: it goes too.
    expect(existsSync(path.join(c.warehouse, '_lake', c.dataset, `${TABLE}__history`, historyLakeFolder(D1)))).toBe(true);
    expect(existsSync(path.join(c.warehouse, '_lake', c.dataset, `${TABLE}__history`, historyLakeFolder(D2)))).toBe(false);
    expect(readdirSync(work, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('.'))).toEqual([]);
    expect(published(c.warehouse, c.dataset)).toEqual(before);

    const again = await runDataset(h, c.at('day2'), D2);
    expect(tableResult(again, TABLE).counts.U).toBe(gen.expected.updates);
    expect(await committedDates(h.engine, c.warehouse, c.dataset, TABLE)).toEqual([D1, D2]);
    await assertHistoryReplaysToCurrent(c.warehouse, c.dataset);
  });

  it("workers attaching a new warehouse's PostgreSQL catalog at once each attach it, without a failed attempt", async () => {
    const catalogUrl = process.env.CDCFLOW_TEST_PG_URL;
    if (!catalogUrl) throw new Error('CDCFLOW_TEST_PG_URL is not set (the test setup starts PostgreSQL)');
    // Three worker processes' engines, each its own DuckDB instance and catalog connection.
    const engines = await Promise.all([1, 2, 3].map(() => Engine.create({ ...engineSettings(), catalogUrl })));
    try {
      // Before, the workers that lost DuckLake's creation of the catalog failed their first
      // stage ("Failed to initialize DuckLake: ... duplicate key value violates unique
      // constraint"), in most of the warehouses, and showed it until Temporal retried.
      for (let round = 0; round < 6; round++) {
        const warehouse = path.join(dir, `wh-${uniqueDataset('attach')}`);
        const attached = await Promise.allSettled(engines.map((engine) => withCatalog(engine, warehouse, (session, alias) => session.rows(`SELECT database_name FROM duckdb_databases() WHERE database_name = '${alias}'`))));
        expect(attached.map((a) => (a.status === 'fulfilled' ? a.value.length : String(a.reason)))).toEqual([1, 1, 1]);
      }
    } finally {
      await Promise.all(engines.map((engine) => engine.close()));
    }
  }, 120_000);

  it('a PostgreSQL catalog held up by a lock: the progress line names it, for the table holding the catalog connection and for the one queued behind it', async () => {
    const catalogUrl = process.env.CDCFLOW_TEST_PG_URL;
    if (!catalogUrl) throw new Error('CDCFLOW_TEST_PG_URL is not set (the test setup starts PostgreSQL)');
    const taskQueue = `test-catalog-lock-${uniqueDataset('q')}`;
    const env = { CDCFLOW_CATALOG_URL: catalogUrl, TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: taskQueue };
    const folder = path.join(dir, 'catalog-lock');
    mkdirSync(folder, { recursive: true });
    const tables = ['a', 'b'];
    for (const t of tables) writeCsv(path.join(folder, `${t}.csv`), ['id', 'v'], [[1, 'x'], [2, 'y']]);
    const config = writeConfig(folder, {
      dataset: uniqueDataset('catlock'),
      warehouse: 'warehouse',
      tables: tables.map((name) => ({ name, keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: `${name}.csv` } })),
    });
    const run = (date: string, until?: (stderr: string) => boolean) => cdcflow(['run', '--config', path.join(folder, 'dataset.yaml'), '--date', date, '--input', folder], env, until);
    const worker = await spawnWorker(taskQueue, path.join(dir, 'tmp-catlock'), { env, maxActivities: 2 });
    try {
      expect((await run(D1)).code).toBe(0);
      const schema = `cdcflow_${createHash('sha256').update(config.warehouse).digest('hex').slice(0, 12)}`;
      const lock = await lockTable(`${schema}.ducklake_snapshot`);
      // Before, both tables' lines said only "plan" until the lock went (here: the safety release).
      const giveUp = setTimeout(() => void lock.release(), 60_000);
      const holding = new RegExp(`PostgreSQL \\(\\$CDCFLOW_CATALOG_URL\\): waiting \\d+s for a lock on ${schema}\\.ducklake_snapshot, held by session \\d+ \\(cdcflow-test-lock, active for \\d+s\\)`);
      const queued = new RegExp(`\\b[ab]: \\w+ \\(\\d+/\\d+\\) · waiting for the worker's catalog connection: ${holding.source}`);
      const out = await run(D2, (stderr) => {
        if (queued.test(stderr)) void lock.release();
        return false;
      });
      clearTimeout(giveUp);
      await lock.release();
      expect(out.code).toBe(0);
      expect(out.stderr).toMatch(new RegExp(`\\b[ab]: \\w+ \\(\\d+/\\d+\\) · ${holding.source}`));
      expect(out.stderr).toMatch(queued);
    } finally {
      await sigkill(worker);
    }
  }, 180_000);

  it("vacuum with a catalog that holds none of the warehouse's commits (another CDCFLOW_CATALOG_URL, a lost catalog file) is refused, deleting nothing", async () => {
    const catalogUrl = process.env.CDCFLOW_TEST_PG_URL;
    if (!catalogUrl) throw new Error('CDCFLOW_TEST_PG_URL is not set (the test setup starts PostgreSQL)');
    const env = { CDCFLOW_CATALOG_URL: catalogUrl };
    const c = configFor('othercat');
    const taskQueue = `test-othercat-${c.dataset}`;
    const worker = await spawnWorker(taskQueue, path.join(dir, `tmp-${c.dataset}`), { env });
    try {
      tableResult(await runDataset({ client: h.client, settings: { ...h.settings, taskQueue } }, c.at('day1'), D1), TABLE);
    } finally {
      await sigkill(worker);
    }
    const lake = path.join(c.warehouse, '_lake');
    const lakeFiles = () => readdirSync(lake, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet')).sort();
    const committed = lakeFiles();
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
    for (const f of committed) utimesSync(path.join(lake, f), hoursAgo, hoursAgo);

    // An operator's shell set up for another environment: another database of the same server, so the same schema name.
    psql('DROP DATABASE IF EXISTS cdcflow_other_env');
    psql('CREATE DATABASE cdcflow_other_env');
    const otherUrl = catalogUrl.replace(/\/[^/?]+(\?|$)/, '/cdcflow_other_env$1');
    // The old code opened an empty catalog there and deleted every committed data file as its orphan, with exit 0.
    const other = await cdcflow(['vacuum', '--config', c.file], { CDCFLOW_CATALOG_URL: otherUrl });
    expect({ code: other.code, stderr: other.stderr }).toMatchObject({ code: 1, stderr: expect.stringContaining('but CDCFLOW_CATALOG_URL names database cdcflow_other_env') });
    expect(lakeFiles()).toEqual(committed);

    // A SQLite catalog whose file is gone: nothing is created in its place, nothing deleted.
    const identity = path.join(c.warehouse, '_catalog.json');
    const recorded = readFileSync(identity);
    writeFileSync(identity, JSON.stringify({ catalog: 'sqlite', warehouse: c.warehouse }));
    const lost = await cdcflow(['vacuum', '--config', c.file], {});
    expect({ code: lost.code, stderr: lost.stderr }).toMatchObject({ code: 1, stderr: expect.stringContaining('catalog.sqlite does not exist') });
    expect(existsSync(path.join(c.warehouse, 'catalog.sqlite'))).toBe(false);
    expect(lakeFiles()).toEqual(committed);

    // With the workers' catalog, vacuum runs and keeps every committed file.
    writeFileSync(identity, recorded);
    expect((await cdcflow(['vacuum', '--config', c.file], env)).code).toBe(0);
    expect(lakeFiles()).toEqual(committed);
  });

  /** The tests' PostgreSQL catalog, and the database and server it names. */
  function testCatalog(): { url: string; database: { systemIdentifier: string; name: string } } {
    const url = process.env.CDCFLOW_TEST_PG_URL;
    if (!url) throw new Error('CDCFLOW_TEST_PG_URL is not set (the test setup starts PostgreSQL)');
    return { url, database: { systemIdentifier: psql('SELECT system_identifier FROM pg_control_system()'), name: psql('SELECT current_database()') } };
  }

  /** A new, empty database of the test server (another environment's catalog database, say) and its connection string. */
  function otherDatabase(name: string): string {
    psql(`DROP DATABASE IF EXISTS ${name}`);
    psql(`CREATE DATABASE ${name}`);
    return testCatalog().url.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
  }

  /**
   * `cdcflow run` of `date` from `day`'s input, served by a worker, both with CDCFLOW_CATALOG_URL=`catalogUrl`, on the
   * dataset's task queue (its queue workflow lives there). The worker stops gracefully, so the next one takes over at once.
   */
  async function runOnCatalog(c: { dataset: string; file: string }, day: 'day1' | 'day2', date: string, catalogUrl: string): Promise<{ code: number | null; out: string }> {
    const taskQueue = `test-catdb-${c.dataset}`;
    const env = { CDCFLOW_CATALOG_URL: catalogUrl };
    const worker = await spawnWorker(taskQueue, path.join(dir, `tmp-${taskQueue}`), { env });
    try {
      return await cliRun(c.file, date, path.join(path.dirname(gen.files.config), day), taskQueue, env);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  }

  /** The published history of `date` by operation. */
  async function publishedOperations(warehouse: string, dataset: string, date: string): Promise<Record<string, number>> {
    const rows = await h.engine.withSession((s) =>
      s.rows<{ op: string; n: number }>(`SELECT OPERATION AS op, count(*)::INT AS n FROM '${tableLayout(warehouse, dataset, TABLE).history(date)}' GROUP BY op`),
    );
    return Object.fromEntries(rows.map((r) => [r.op, r.n]));
  }

  it('a run whose CDCFLOW_CATALOG_URL names another database of the server is refused, committing and publishing nothing; the right one still works', async () => {
    const catalog = testCatalog();
    const otherUrl = otherDatabase('cdcflow_other_run');
    const c = configFor('otherdb');
    expect(await runOnCatalog(c, 'day1', D1, catalog.url)).toMatchObject({ code: 0 });
    const before = published(c.warehouse, c.dataset);

    // The old code found no schema of the warehouse there and created an empty catalog in that database; an empty catalog
    // takes every table's next date for its first (every row an I, no D). Here the roll-forward of the exports, which are
    // ahead of its empty log, failed first: retried for four minutes, then `Table with name records__current does not exist!`.
    const other = await runOnCatalog(c, 'day2', D2, otherUrl);
    expect(other.code).not.toBe(0);
    expect(other.out).toContain(
      `warehouse ${c.warehouse} keeps its commits in database ${catalog.database.name} of the PostgreSQL server with system identifier ` +
        `${catalog.database.systemIdentifier}, but CDCFLOW_CATALOG_URL names database cdcflow_other_run of the PostgreSQL server`,
    );
    expect(other.out).toContain(`remove "database" from ${path.join(c.warehouse, '_catalog.json')}`);
    expect(published(c.warehouse, c.dataset)).toEqual(before);
    // Refused before DuckLake attached it: no catalog was created in the other database.
    expect(psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'cdcflow%'", otherUrl)).toBe('0');

    expect(await runOnCatalog(c, 'day2', D2, catalog.url)).toMatchObject({ code: 0 });
    expect(await publishedOperations(c.warehouse, c.dataset, D2)).toEqual({ I: gen.expected.inserts, U: gen.expected.updates, D: gen.expected.deletes });
    await assertHistoryReplaysToCurrent(c.warehouse, c.dataset);
  }, 300_000);

  it("a _catalog.json of an earlier release, without the catalog's database, gets it recorded by a worker on the database holding the warehouse's commits, never by one on another", async () => {
    const catalog = testCatalog();
    const otherUrl = otherDatabase('cdcflow_other_old');
    const c = configFor('olddb');
    expect(await runOnCatalog(c, 'day1', D1, catalog.url)).toMatchObject({ code: 0 });
    const identity = path.join(c.warehouse, '_catalog.json');
    // As an earlier release wrote it: no database.
    const earlier = JSON.parse(readFileSync(identity, 'utf8')) as Record<string, unknown>;
    delete earlier.database;
    const writeEarlier = () => writeFileSync(identity, JSON.stringify(earlier));

    writeEarlier();
    expect(await runOnCatalog(c, 'day2', D2, catalog.url)).toMatchObject({ code: 0 });
    expect(JSON.parse(readFileSync(identity, 'utf8'))).toEqual({ ...earlier, database: catalog.database });

    // Another database's catalog holds none of the commits of a warehouse that has published exports: not recorded, refused.
    writeEarlier();
    const before = published(c.warehouse, c.dataset);
    const other = await runOnCatalog(c, 'day2', D3, otherUrl);
    expect(other.code).not.toBe(0);
    expect(other.out).toContain(`warehouse ${c.warehouse} has published exports, but its schema cdcflow_`);
    expect(other.out).toContain('in database cdcflow_other_old of the PostgreSQL server');
    expect(JSON.parse(readFileSync(identity, 'utf8'))).toEqual(earlier);
    expect(published(c.warehouse, c.dataset)).toEqual(before);
  }, 120_000);

  it("a run resumed days later keeps its files through a vacuum between placing them in the lake and committing them", async () => {
    const c = configFor('late');
    tableResult(await runDataset(h, c.at('day1'), D1), TABLE);
    const taskQueue = `test-late-${c.dataset}`;
    const crashing = await spawnWorker(taskQueue, path.join(dir, `tmp-${c.dataset}`), { killAtStep: 'commit' });
    const { handle } = await startDatasetRun(h.client, { ...h.settings, taskQueue }, { config: c.at('day2'), businessDate: D2 });
    await crashing.exited;
    // The run's stage files, which its next attempt reuses, are two days old by then.
    const work = path.join(c.warehouse, '_work');
    const daysAgo = new Date(Date.now() - 2 * 86_400_000);
    for (const f of readdirSync(work, { recursive: true, encoding: 'utf8' })) utimesSync(path.join(work, f), daysAgo, daysAgo);
    utimesSync(work, daysAgo, daysAgo);

    // The next attempt places them in the lake and registers them, then waits before its COMMIT
    // while vacuum runs (default cut-off, 24 h). The old code committed files vacuum had just
    // deleted as orphans (a link keeps its file's time): the date's state was gone.
    const pause = path.join(dir, `pause-${c.dataset}`);
    await spawnWorker(taskQueue, path.join(dir, `tmp2-${c.dataset}`), { killAtStep: 'commit:before-commit', pauseFile: pause });
    for (let waited = 0; !existsSync(`${pause}.reached`); waited += 200) {
      if (waited > 60_000) throw new Error('the resumed attempt did not reach its commit within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const vacuum = await cdcflow(['vacuum', '--config', c.file], {});
    expect(vacuum.code).toBe(0);
    writeFileSync(`${pause}.go`, '');

    const result = await withTimeout(handle.result(), 60_000, () => 'the run did not complete within 60 s (its committed files gone?)');
    expect(result.tables[0]).toMatchObject({ status: 'completed', result: { counts: expectedDay2() } });
    expect(await committedDates(h.engine, c.warehouse, c.dataset, TABLE)).toEqual([D1, D2]);
    await assertHistoryReplaysToCurrent(c.warehouse, c.dataset);
  });

  it("a stage folder that lost a file (a vacuum killed inside it) has its stage worked out again, not failed on at every attempt", async () => {
    const c = configFor('partial');
    const strict = (day: 'day1' | 'day2') => {
      const config = c.at(day);
      return { ...config, tables: config.tables.map((t) => ({ ...t, maxDeleteShare: 0.1 })) };
    };
    tableResult(await runDataset(h, strict('day1'), D1), TABLE);
    // The delete guard refuses day 2 after its diff, whose files stay for a run with --allow-deletes.
    expect(failedTable(await runDataset(h, strict('day2'), D2), TABLE)).toMatch(/maxDeleteShare/);
    // vacuum removes a stage folder file by file: killed inside it, it leaves the diff's state file and manifest without the history file.
    const layout = tableLayout(c.warehouse, c.dataset, TABLE);
    expect(existsSync(layout.stageFile(D2, 'state'))).toBe(true);
    rmSync(layout.stageFile(D2, 'history'));

    // The old code took the diff for done and failed to link the missing file at every attempt (for minutes, then for good).
    const { handle } = await startDatasetRun(h.client, h.settings, { config: strict('day2'), businessDate: D2, allowDeletes: true });
    const result = await withTimeout(handle.result(), 60_000, () => 'the run did not complete within 60 s');
    expect(result.tables[0]).toMatchObject({ status: 'completed', result: { counts: expectedDay2() } });
    await assertHistoryReplaysToCurrent(c.warehouse, c.dataset);
  });

  it('the latest date runs again: same input commits nothing new, new input replaces it; an older date is refused', async () => {
    const c = configFor('rerun');
    tableResult(await runDataset(h, c.at('day1'), D1), TABLE);
    const first = tableResult(await runDataset(h, c.at('day2'), D2), TABLE);
    const afterD2 = published(c.warehouse, c.dataset);
    const snapshots = () =>
      withCatalog(h.engine, c.warehouse, async (s, alias) => (await s.rows(`SELECT snapshot_id FROM ducklake_snapshots('${alias}')`)).length);
    const before = await snapshots();

    const same = tableResult(await runDataset(h, c.at('day2'), D2), TABLE);
    expect(same.skippedStages).toContain('write');
    expect(same.counts).toEqual(first.counts);
    expect(await snapshots()).toBe(before);
    expect(published(c.warehouse, c.dataset)).toEqual(afterD2);

    // D2 again with day 1's data: nothing changed against D1, so D2's history is empty.
    const replaced = tableResult(await runDataset(h, c.at('day1'), D2), TABLE);
    expect(replaced.baseDate).toBe(D1);
    expect(replaced.counts).toEqual({ I: 0, U: 0, D: 0, X: 0, N: gen.expected.day1Rows });
    const [d2] = await h.engine.withSession((s) =>
      s.rows<{ n: number }>(`SELECT count(*)::INT AS n FROM '${tableLayout(c.warehouse, c.dataset, TABLE).history(D2)}'`),
    );
    expect(d2.n).toBe(0);
    await assertHistoryReplaysToCurrent(c.warehouse, c.dataset);

    const older = await runDataset(h, c.at('day1'), D1);
    expect(older.ok).toBe(false);
    expect(older.ok ? '' : older.error).toMatch(/business date 2024-01-01 is older than the latest committed date 2024-01-02; only the latest date can be run again/);
    expect(await committedDates(h.engine, c.warehouse, c.dataset, TABLE)).toEqual([D1, D2]);
  });

  it('a history partition is the commit\'s own history file, whose date the catalog reads from its folder; the tag lists the state\'s files', async () => {
    const c = configFor('histlink');
    const counts = [tableResult(await runDataset(h, c.at('day1'), D1), TABLE).counts, tableResult(await runDataset(h, c.at('day2'), D2), TABLE).counts];
    const layout = tableLayout(c.warehouse, c.dataset, TABLE);
    const lakeHistory = () =>
      withCatalog(h.engine, c.warehouse, async (s, alias) => ({
        files: (await s.rows<{ f: string }>(`SELECT data_file AS f FROM ducklake_list_files('${alias}', '${TABLE}__history', schema => '${c.dataset}') ORDER BY f`)).map((r) => r.f),
        perDate: await s.rows<{ d: string; n: number }>(
          `SELECT CAST(EFF_START_DATE AS VARCHAR) AS d, count(*)::INT AS n FROM "${alias}"."${c.dataset}"."${TABLE}__history" GROUP BY ALL ORDER BY d`,
        ),
      }));
    const { files, perDate } = await lakeHistory();
    expect(files.map((f) => path.basename(path.dirname(f)))).toEqual([`EFF_START_DATE=${D1}`, `EFF_START_DATE=${D2}`]);
    for (const [i, d] of [D1, D2].entries()) expect(statSync(layout.history(d)).ino).toBe(statSync(files[i]).ino);
    expect(perDate).toEqual(counts.map((n, i) => ({ d: [D1, D2][i], n: n.I + n.U + n.D })));
    const columns = await h.engine.withSession((s) => s.rows<{ column_name: string }>(`DESCRIBE SELECT * FROM '${layout.history(D2)}'`));
    expect(columns.map((col) => col.column_name)).not.toContain('EFF_START_DATE');

    // D2 again with day 1's data: the catalog's delete of D2's history finds the rows by the folder's date.
    tableResult(await runDataset(h, c.at('day1'), D2), TABLE);
    expect((await lakeHistory()).perDate).toEqual([{ d: D1, n: counts[0].I }]);
    await assertHistoryReplaysToCurrent(c.warehouse, c.dataset);

    // The plan reads the base's files from the commit's tag: the files the catalog lists for its snapshot.
    const listed = await withCatalog(h.engine, c.warehouse, async (s, alias, metadata) => {
      const head = tableSnapshots(await commitSnapshots(s, metadata), c.dataset, TABLE).at(-1)!;
      const files = await s.rows<{ f: string }>(
        `SELECT data_file AS f FROM ducklake_list_files('${alias}', '${TABLE}__current', schema => '${c.dataset}', snapshot_version => ${head.snapshot}) ORDER BY f`,
      );
      return { tagged: head.tag.files?.current, files: files.map((r) => r.f) };
    });
    expect(listed.tagged).toEqual(listed.files);
  });

  it('plans on commits of an older version, whose snapshot tags lack the commit record, from the commit log: same outputs', async () => {
    const current = configFor('newtags');
    const older = configFor('oldtags');
    for (const c of [current, older]) tableResult(await runDataset(h, c.at('day1'), D1), TABLE);
    // What an older version tagged its commits with: table, date, commit and keep only.
    const stripped = await withCatalog(h.engine, older.warehouse, async (s, _alias, metadata) => {
      const tags = await s.rows<{ id: string; info: string }>(
        `SELECT snapshot_id AS id, commit_extra_info AS info FROM ${metadata}.ducklake_snapshot_changes WHERE commit_extra_info LIKE '{"cdcflow":1,%'`,
      );
      for (const { id, info } of tags) {
        const { cdcflow, dataset, table, date, commit, keep } = JSON.parse(info) as Record<string, unknown>;
        const old = JSON.stringify({ cdcflow, dataset, table, date, commit, keep }).replace(/'/g, "''");
        await s.run(`UPDATE ${metadata}.ducklake_snapshot_changes SET commit_extra_info = '${old}' WHERE snapshot_id = ${id}`);
      }
      return tags.length;
    });
    expect(stripped).toBe(1);
    for (const c of [current, older]) {
      const day2 = tableResult(await runDataset(h, c.at('day2'), D2), TABLE);
      expect(day2.counts).toEqual(expectedDay2());
      expect(day2.baseDate).toBe(D1);
      // The latest date again, on the same input: planned on the same base, so nothing is committed.
      expect(tableResult(await runDataset(h, c.at('day2'), D2), TABLE).skippedStages).toContain('write');
    }
    expect(published(older.warehouse, older.dataset)).toEqual(published(current.warehouse, current.dataset));
  });

  it('keeps the snapshots of the newest committed dates only, and deletes the files of the others', async () => {
    const c = configFor('retention');
    for (const [date, day] of [[D1, 'day1'], [D2, 'day2'], [D3, 'day1']] as const) tableResult(await runDataset(h, c.at(day), date), TABLE);
    const { dates, referenced } = await withCatalog(h.engine, c.warehouse, async (s, alias) => {
      const tagged = await s.rows<{ id: string; date: string }>(
        `SELECT snapshot_id AS id, json_extract_string(commit_extra_info, '$.date') AS date FROM ducklake_snapshots('${alias}') ` +
          `WHERE commit_extra_info IS NOT NULL ORDER BY snapshot_id`,
      );
      const files = new Set<string>();
      for (const { id } of tagged) {
        for (const t of ['current', 'history', 'commits', 'head']) {
          const rows = await s.rows<{ f: string }>(
            `SELECT data_file AS f FROM ducklake_list_files('${alias}', '${TABLE}__${t}', schema => '${c.dataset}', snapshot_version => ${id})`,
          );
          rows.forEach((r) => files.add(path.resolve(r.f)));
        }
      }
      return { dates: tagged.map((r) => r.date), referenced: files };
    });
    expect(dates).toEqual([D2, D3]);
    const lake = path.join(c.warehouse, '_lake');
    const onDisk = readdirSync(lake, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.parquet'))
      .map((f) => path.resolve(lake, f));
    expect(onDisk.sort()).toEqual([...referenced].sort());
    // One pass per dataset run, after its tables: passes after each table's commit cost a small table more than its diff.
    expect((await activityStarts(h.client, datasetWorkflowId(c.dataset, D3))).filter((a) => a.type === 'expireSnapshots')).toHaveLength(1);
    expect((await activityStarts(h.client, tableWorkflowId(c.dataset, D3, TABLE))).map((a) => a.type)).not.toContain('expireSnapshots');
  });

  /** Copies (or puts back) a warehouse's catalog, as an operator's backup of catalog.sqlite (with its -wal and -shm) and _lake/. */
  function copyCatalog(from: string, to: string): void {
    for (const f of readdirSync(to, { withFileTypes: true }).filter((e) => e.name.startsWith('catalog.sqlite') || e.name === '_lake')) {
      rmSync(path.join(to, f.name), { recursive: true });
    }
    for (const f of readdirSync(from).filter((n) => n.startsWith('catalog.sqlite') || n === '_lake')) cpSync(path.join(from, f), path.join(to, f), { recursive: true });
  }

  // With a sensitive column, its history folders under _sensitive/ are published exports too.
  it.each([
    ['', false],
    [', with its sensitive columns\' exports', true],
  ])('exports published from a newer catalog (an earlier copy of catalog.sqlite and _lake/ put back) are refused, naming their dates, not deleted%s; moved out, the run goes on', async (_label, withSensitive) => {
    const c = configFor(withSensitive ? 'restoredsens' : 'restored');
    const at = (day: 'day1' | 'day2') => {
      const config = c.at(day);
      if (withSensitive) config.tables[0].columns[2].sensitive = true;
      return config;
    };
    const layout = tableLayout(c.warehouse, c.dataset, TABLE);
    const sensitive = sensitiveLayout(c.warehouse, c.dataset, TABLE);
    const folders = (date: string) => [layout.history(date), ...(withSensitive ? [sensitive.history(date)] : [])].map((f) => path.dirname(f));
    tableResult(await runDataset(h, at('day1'), D1), TABLE);
    const copy = path.join(dir, `copy-${c.dataset}`);
    mkdirSync(copy);
    copyCatalog(c.warehouse, copy);
    tableResult(await runDataset(h, at('day2'), D2), TABLE);
    const afterD2 = { main: published(c.warehouse, c.dataset), sensitive: withSensitive ? readFileSync(sensitive.history(D2)) : undefined };
    copyCatalog(copy, c.warehouse);

    // The old code rolled the exports back to the catalog with exit 0: D2's published history deleted, current.parquet back at D1.
    const refused = failedTable(await runDataset(h, at('day2'), D3), TABLE);
    expect(refused).toContain(
      `the published history of ${c.dataset}.${TABLE} holds ${D2} (${folders(D2)[0]}), which the catalog has no commit of (its latest committed date is ${D1})`,
    );
    expect(refused).toContain(`move those date folders out of ${folders(D2).map((f) => path.dirname(f)).join(' and ')} (to keep them elsewhere)`);
    expect(published(c.warehouse, c.dataset)).toEqual(afterD2.main);
    if (withSensitive) expect(readFileSync(sensitive.history(D2))).toEqual(afterD2.sensitive);

    // Moved out, the catalog as put back goes on: D2 runs again on D1, published as before.
    folders(D2).forEach((f, i) => renameSync(f, path.join(copy, `history-${i}`)));
    tableResult(await runDataset(h, at('day2'), D2), TABLE);
    expect(await committedDates(h.engine, c.warehouse, c.dataset, TABLE)).toEqual([D1, D2]);
    expect(published(c.warehouse, c.dataset)).toEqual(afterD2.main);
    if (withSensitive) expect(readFileSync(sensitive.history(D2))).toEqual(afterD2.sensitive);
  });

  it('a lost catalog.sqlite of a warehouse with exports is refused at once, and no empty catalog is created in its place', async () => {
    const c = configFor('lostcat');
    tableResult(await runDataset(h, c.at('day1'), D1), TABLE);
    const before = published(c.warehouse, c.dataset);
    for (const f of readdirSync(c.warehouse).filter((n) => n.startsWith('catalog.sqlite'))) rmSync(path.join(c.warehouse, f));
    // The old code created an empty catalog and failed the plan on its missing tables, retried for minutes.
    const refused = failedTable(await runDataset(h, c.at('day2'), D2), TABLE);
    expect(refused).toContain(`${path.join(c.warehouse, 'catalog.sqlite')} does not exist, but warehouse ${c.warehouse} has published exports`);
    expect(existsSync(path.join(c.warehouse, 'catalog.sqlite'))).toBe(false);
    expect(published(c.warehouse, c.dataset)).toEqual(before);
  }, 60_000);

  it('a warehouse seen at another path, or with another catalog setting, is refused instead of opening an empty catalog', async () => {
    const root = path.join(dir, 'identity');
    const created = path.join(root, 'wh');
    const moved = path.join(root, 'moved');
    const withPostgres = await Engine.create({ ...engineSettings(), catalogUrl: process.env.CDCFLOW_TEST_PG_URL });
    const withSqlite = await Engine.create(engineSettings());
    const attach = (engine: Engine, warehouse: string) => withCatalog(engine, warehouse, async () => undefined);
    try {
      const rows = await withCatalog(withPostgres, created, async (s, alias) => {
        await s.run(`CREATE TABLE ${alias}.main.kept AS SELECT range AS i FROM range(10)`);
        return s.rows<{ n: number }>(`SELECT count(*)::INT AS n FROM ${alias}.main.kept`);
      });
      expect(rows).toEqual([{ n: 10 }]);
      const lakeFiles = () => readdirSync(path.join(created, '_lake'), { recursive: true }).filter((f) => String(f).endsWith('.parquet'));
      expect(lakeFiles().length).toBeGreaterThan(0);
      // A vacuum from a shell without CDCFLOW_CATALOG_URL, a day after the commit, opened an empty SQLite catalog in the
      // warehouse and deleted every committed data file as an orphan of it.
      const dayOld = new Date(Date.now() - 2 * 86_400_000);
      for (const f of lakeFiles()) utimesSync(path.join(created, '_lake', String(f)), dayOld, dayOld);
      const config = path.join(root, 'identity.yaml');
      writeFileSync(config, `dataset: identity\nwarehouse: wh\ntables:\n  - name: t\n    keys: [{ name: id, type: integer }]\n    source: { format: csv, path: t.csv }\n`);
      const vacuum = await cdcflow(['vacuum', '--config', config], {});
      expect(vacuum.code).toBe(1);
      expect(vacuum.stderr).toContain('keeps its commits in the PostgreSQL catalog (CDCFLOW_CATALOG_URL)');
      expect(lakeFiles().length).toBeGreaterThan(0);
      expect(existsSync(path.join(created, 'catalog.sqlite'))).toBe(false);
      // Without the record (a warehouse of an earlier release) the vacuum is refused too, and leaves none: it recorded the
      // SQLite catalog it did not find, and the workers, on the PostgreSQL catalog, were refused from then on.
      const record = readFileSync(path.join(created, '_catalog.json'));
      rmSync(path.join(created, '_catalog.json'));
      const unrecorded = await cdcflow(['vacuum', '--config', config], {});
      expect(unrecorded.code).toBe(1);
      expect(unrecorded.stderr).toContain('catalog.sqlite does not exist');
      expect(existsSync(path.join(created, '_catalog.json'))).toBe(false);
      writeFileSync(path.join(created, '_catalog.json'), record);

      renameSync(created, moved);
      // At another path its PostgreSQL schema would be another, empty one: every date would commit as a first.
      await expect(attach(withPostgres, moved)).rejects.toThrow(`warehouse ${moved} was created at ${created}, whose commits are in schema cdcflow_`);
      await expect(attach(withSqlite, moved)).rejects.toThrow('keeps its commits in the PostgreSQL catalog (CDCFLOW_CATALOG_URL), but this worker is set up for its SQLite catalog');
      // A SQLite warehouse of an earlier release has no record: its catalog file tells.
      const earlier = path.join(root, 'earlier');
      await attach(withSqlite, earlier);
      rmSync(path.join(earlier, '_catalog.json'));
      await expect(attach(withPostgres, earlier)).rejects.toThrow('keeps its commits in its SQLite catalog (no CDCFLOW_CATALOG_URL)');
      expect(existsSync(path.join(earlier, '_catalog.json'))).toBe(false);
    } finally {
      await withPostgres.close();
      await withSqlite.close();
    }
  });
});

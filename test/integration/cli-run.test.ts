/**
 * `cdcflow run` as a user runs it: a real CLI process against the real server, executed by a
 * worker on the same task queue. --json prints exactly one JSON object on stdout; the plain
 * form prints the count table and a UI link; with no worker, the progress line says so.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { signalDatasetQueue } from '../../src/client/dataset-queue';
import { pauseSignal, resumeSignal } from '../../src/workflows/backfill';
import { datasetQueueWorkflowId, datasetWorkflowId } from '../../src/workflows/ids';
import { CLI, cdcflow } from '../support/cli';
import { type Harness, startHarness, tempDir, uniqueDataset, writeCsv } from '../support/harness';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

describe('cdcflow run (CLI)', () => {
  let h: Harness;
  let dir: string;
  let configPath: string;
  let dataset: string;

  beforeAll(async () => {
    h = await startHarness();
    dir = tempDir();
    dataset = uniqueDataset('cli');
    writeCsv(path.join(dir, '2024-01-01.csv'), ['id', 'v'], [[1, 'a'], [2, 'b'], [3, 'c']]);
    writeCsv(path.join(dir, '2024-01-02.csv'), ['id', 'v'], [[1, 'a'], [2, 'B'], [4, 'd']]);
    configPath = path.join(dir, 'dataset.yaml');
    writeFileSync(
      configPath,
      stringify({ dataset, warehouse: 'wh', tables: [{ name: 'items', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: '{date}.csv' } }] }),
    );
  });
  afterAll(() => h?.stop());

  const env = () => ({ TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue });

  it('--json prints one JSON object with the counts and paths, and nothing else on stdout', async () => {
    const out = await cdcflow(['run', '--config', configPath, '--date', '2024-01-01', '--json'], env());
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(out.stdout.trim().split('\n')).toHaveLength(1);
    expect(result).toMatchObject({ workflowId: datasetWorkflowId(dataset, '2024-01-01'), status: 'completed', attached: false });
    expect(result.url).toContain(encodeURIComponent(result.workflowId));
    expect(result.run.tables[0]).toMatchObject({
      table: 'items',
      status: 'completed',
      result: { counts: { I: 3, U: 0, D: 0, X: 0, N: 0 }, currentPath: path.join(dir, 'wh', dataset, 'items', 'current.parquet') },
    });
  });

  it('prints the count table, the output paths and the UI link', async () => {
    const out = await cdcflow(['run', '--config', configPath, '--date', '2024-01-02'], env());
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/items\s+full\s+1\s+1\s+1\s+0\s+1\s+3\s+3\s+\d+\.\d/);
    expect(out.stdout).toContain(`history ${path.join(dir, 'wh', dataset, 'items', 'history', 'eff_start_date=2024-01-02', 'data.parquet')}`);
    // The dev server's UI listens on the frontend's port + 1000.
    const [host, port] = h.settings.address.split(':');
    expect(out.stdout).toContain(`Temporal UI: http://${host}:${Number(port) + 1000}/namespaces/default/workflows/cdcflow%2F`);
    expect(out.stderr).toContain(`started: ${datasetWorkflowId(dataset, '2024-01-02')}`);
  });

  it('exits 1 and names the table when a table fails', async () => {
    const out = await cdcflow(['run', '--config', configPath, '--date', '2024-01-03'], env());
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/items: FAILED: no source file matches .*2024-01-03\.csv/);
  });

  it('with source.waitForFiles, waits for a late file, saying so, and runs once it arrives; without one it fails naming the wait', async () => {
    const lateDir = tempDir();
    const lateConfig = path.join(lateDir, 'dataset.yaml');
    const columns = { keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }] };
    writeFileSync(
      lateConfig,
      stringify({
        dataset: uniqueDataset('cli-late'),
        warehouse: 'wh',
        tables: [
          { name: 'late', ...columns, source: { format: 'csv', path: 'late-{date}.csv', waitForFiles: '60s' } },
          { name: 'never', ...columns, source: { format: 'csv', path: 'never-{date}.csv', waitForFiles: '3s' } },
        ],
      }),
    );
    // The export arrives once the run has said that it waits for it.
    let arrived = false;
    const out = await cdcflow(['run', '--config', lateConfig, '--date', '2024-01-01'], env(), (stderr) => {
      if (!arrived && stderr.includes('late: waiting for files')) {
        arrived = true;
        writeCsv(path.join(lateDir, 'late-2024-01-01.csv'), ['id', 'v'], [[1, 'a'], [2, 'b']]);
      }
      return false;
    });
    expect(arrived).toBe(true);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/late\s+full\s+2\s+0\s+0\s+0\s+0\s+2\s+2/);
    expect(out.stdout).toMatch(/never: FAILED: no source file matches .*never-2024-01-01\.csv after waiting 3s \(source\.waitForFiles\)/);
  });

  it('says so when no worker polls the task queue', async () => {
    const queue = `nobody-${dataset}`;
    const out = await cdcflow(['run', '--config', configPath, '--date', '2024-01-04'], { ...env(), CDCFLOW_TASK_QUEUE: queue }, (stderr) =>
      stderr.includes('waiting for a worker'),
    );
    expect(out.stderr).toContain(`waiting for a worker on task queue "${queue}" (start one with: cdcflow worker)`);
    await h.client.workflow.getHandle(datasetWorkflowId(dataset, '2024-01-04')).terminate('test over');
  });

  it('schedule backfill shows the progress line of each date too: no worker polling is said, not waited on in silence', async () => {
    const queue = `nobody-backfill-${dataset}`;
    const until = (stderr: string) => stderr.includes('waiting for a worker');
    // The old command printed nothing at all until the date's run ended (here: killed after 20 s).
    const out = await cdcflow(['schedule', 'backfill', '--config', configPath, '--from', '2024-01-05', '--to', '2024-01-05'], { ...env(), CDCFLOW_TASK_QUEUE: queue }, until, 20_000);
    await h.client.workflow.getHandle(datasetWorkflowId(dataset, '2024-01-05')).terminate('test over');
    expect(out.stderr).toContain(`waiting for a worker on task queue "${queue}" (start one with: cdcflow worker)`);
  });

  it('refuses a malformed date before contacting the server', async () => {
    const out = await cdcflow(['run', '--config', configPath, '--date', '2024-13-01'], env());
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('--date: not a valid YYYY-MM-DD date: "2024-13-01"');
  });
});

describe('cdcflow CLI: mistakes and failures', () => {
  let h: Harness;
  let dir: string;
  let configPath: string;
  let dataset: string;

  beforeAll(async () => {
    h = await startHarness();
    dir = tempDir();
    dataset = uniqueDataset('cli-m');
    for (const input of ['a', 'b']) {
      mkdirSync(path.join(dir, input));
      writeCsv(path.join(dir, input, 'items.csv'), ['id', 'v'], [[1, 'x'], ['two', 'y']]);
    }
    configPath = path.join(dir, 'dataset.yaml');
    writeFileSync(
      configPath,
      stringify({ dataset, warehouse: 'wh', tables: [{ name: 'items', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: 'items.csv' } }] }),
    );
  });
  afterAll(() => h?.stop());

  const env = (queue = h.settings.taskQueue) => ({ TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: queue });
  const notStarted = async (date: string) =>
    expect(h.client.workflow.getHandle(datasetWorkflowId(dataset, date)).describe()).rejects.toThrow(/not found/i);

  it('refuses unknown --tables before anything starts', async () => {
    const out = await cdcflow(['run', '--config', configPath, '--date', '2024-02-01', '--input', path.join(dir, 'a'), '--tables', 'items,nope'], env());
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`--tables: dataset ${dataset} has no table(s) nope (tables: items)`);
    await notStarted('2024-02-01');
  });

  it('names a missing config file once, from validate and from run', async () => {
    const missing = path.join(dir, 'missing.yaml');
    const said = `cdcflow: cannot read config file ${missing}: ENOENT: no such file or directory, open '${missing}'\n`;
    for (const args of [['validate', missing], ['run', '--config', missing, '--date', '2024-01-01']]) {
      const out = await cdcflow(args, env());
      expect({ args, code: out.code, stderr: out.stderr }).toEqual({ args, code: 1, stderr: said });
    }
  });

  it.each(['', ' , '])('refuses --tables %j, which names no table, before anything starts', async (tables) => {
    const out = await cdcflow(['run', '--config', configPath, '--date', '2024-02-01', '--input', path.join(dir, 'a'), '--tables', tables], env());
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`--tables names no table (tables of ${dataset}: items); leave it out for all of them`);
    await notStarted('2024-02-01');
  });

  it('validates numeric options', async () => {
    const out = await cdcflow(['worker', '--max-activities', '0'], env());
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`option '--max-activities <n>' argument '0' is invalid. must be at least 1.`);
    const words = await cdcflow(['generate', '--out', path.join(dir, 'gen'), '--initial', 'many'], env());
    expect(words.code).toBe(1);
    expect(words.stderr).toContain('not an integer');
  });

  it('names the address and says how to start a server when none answers', async () => {
    const out = await cdcflow(['run', '--config', configPath, '--date', '2024-02-01', '--input', path.join(dir, 'a')], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^cdcflow: cannot connect to Temporal at 127\.0\.0\.1:1 \(.*\)\. Start a local server first \(scripts\/start-temporal\.sh/);
  });

  it('attaching to a running run with a different --input says so and exits 1', async () => {
    const queue = `idle-${dataset}`;
    const first = await cdcflow(['run', '--config', configPath, '--date', '2024-02-02', '--input', path.join(dir, 'a')], env(queue), (stderr) =>
      stderr.includes('waiting for a worker'),
    );
    expect(first.stderr).toContain(`started: ${datasetWorkflowId(dataset, '2024-02-02')}`);
    const other = await cdcflow(['run', '--config', configPath, '--date', '2024-02-02', '--input', path.join(dir, 'b')], env(queue));
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(
      `cdcflow: ${datasetWorkflowId(dataset, '2024-02-02')} is already running with other input or config ` +
        `(its sources: ${path.join(dir, 'a', 'items.csv')}; yours: ${path.join(dir, 'b', 'items.csv')}); wait for it to end (or cancel it) and run again`,
    );
    const same = await cdcflow(['run', '--config', configPath, '--date', '2024-02-02', '--input', path.join(dir, 'a')], env(queue), (stderr) =>
      stderr.includes('waiting for a worker'),
    );
    expect(same.stderr).toContain('attached to the run already in progress');
    await h.client.workflow.getHandle(datasetWorkflowId(dataset, '2024-02-02')).terminate('test over');
  });

  it("refuses at once, naming where it runs, when the dataset's queue workflow is on another task queue", async () => {
    // As after the demo (task queue cdcflow-demo) when the same dataset is run on the default queue.
    const other = uniqueDataset('cli-queue');
    const otherConfig = path.join(dir, `${other}.yaml`);
    writeFileSync(otherConfig, readFileSync(configPath, 'utf8').replace(`dataset: ${dataset}`, `dataset: ${other}`));
    const elsewhere = `elsewhere-${other}`;
    await signalDatasetQueue(h.client, elsewhere, other, pauseSignal, []);
    try {
      const refusal = new RegExp(`queue workflow ${datasetQueueWorkflowId(other)} on task queue "${elsewhere}", where no worker polls, not on "${h.settings.taskQueue}"`);
      const out = await cdcflow(['run', '--config', otherConfig, '--date', '2024-01-01'], env());
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(refusal);
      expect(out.stderr).toContain(`temporal workflow terminate --workflow-id ${datasetQueueWorkflowId(other)}`);
      // Dump requests (cdcflow backfill) pass through the same call.
      await expect(signalDatasetQueue(h.client, h.settings.taskQueue, other, resumeSignal, [])).rejects.toThrow(refusal);
    } finally {
      await h.client.workflow.getHandle(datasetQueueWorkflowId(other)).terminate('test over');
    }
  }, 60_000);

  it('attaching to a running run of other --tables names the tables of both', async () => {
    const queue = `idle-tables-${dataset}`;
    const other = uniqueDataset('cli-t');
    const table = (name: string) => ({ name, keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: `${name}/{date}.csv` } });
    const twoTables = path.join(dir, 'two-tables.yaml');
    writeFileSync(twoTables, stringify({ dataset: other, warehouse: 'wh', tables: [table('t'), table('u')] }));
    const first = await cdcflow(['run', '--config', twoTables, '--date', '2024-02-02', '--tables', 't'], env(queue), (stderr) => stderr.includes('waiting for a worker'));
    expect(first.stderr).toContain(`started: ${datasetWorkflowId(other, '2024-02-02')}`);
    const second = await cdcflow(['run', '--config', twoTables, '--date', '2024-02-02', '--tables', 'u'], env(queue));
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `cdcflow: ${datasetWorkflowId(other, '2024-02-02')} is already running with other tables (its tables: t; yours: u); wait for it to end (or cancel it) and run again`,
    );
    await h.client.workflow.getHandle(datasetWorkflowId(other, '2024-02-02')).terminate('test over');
  });

  it('the worker logs an expected data error once, without a stack trace', async () => {
    const queue = `logs-${dataset}`;
    let workerLog = '';
    const worker = spawn(process.execPath, [CLI, 'worker'], {
      env: { ...process.env, ...env(queue), CDCFLOW_WORKFLOW_BUNDLE: process.env.CDCFLOW_TEST_WORKFLOW_BUNDLE ?? '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    worker.stderr.on('data', (d) => (workerLog += d));
    try {
      const out = await cdcflow(['run', '--config', configPath, '--date', '2024-02-03', '--input', path.join(dir, 'a')], env(queue));
      expect(out.code).toBe(1);
      expect(out.stdout).toContain('items: FAILED: value "two" in column "id" does not convert exactly to integer');
    } finally {
      worker.kill('SIGINT');
      await new Promise((resolve) => worker.on('close', resolve));
    }
    const mentions = workerLog.split('\n').filter((l) => l.includes('does not convert exactly'));
    expect(mentions).toHaveLength(1);
    expect(mentions[0]).toContain('[WARN] Activity failed: DataError: value "two" in column "id" does not convert exactly to integer');
    expect(workerLog).not.toMatch(/^\s+at /m);
  });
});

describe('cdcflow run waiting for its turn', () => {
  // Holds the next run's hash stage until released.
  let hashGate: { arrived: () => void; released: Promise<void> } | undefined;
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      beforeStage: async (stage) => {
        const gate = hashGate;
        if (stage !== 'hash' || !gate) return;
        hashGate = undefined;
        gate.arrived();
        await gate.released;
      },
    });
  });
  afterAll(() => h?.stop());

  it("names the run holding the dataset's turn while another date of the dataset waits for it", async () => {
    const dir = tempDir();
    const dataset = uniqueDataset('cli-turn');
    for (const date of ['2024-03-01', '2024-03-02']) writeCsv(path.join(dir, `${date}.csv`), ['id', 'v'], [[1, date]]);
    const configPath = path.join(dir, 'dataset.yaml');
    writeFileSync(
      configPath,
      stringify({ dataset, warehouse: 'wh', tables: [{ name: 'items', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: '{date}.csv' } }] }),
    );
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const atHash = new Promise<void>((arrived) => (hashGate = { arrived, released }));
    const env = { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue };
    const first = cdcflow(['run', '--config', configPath, '--date', '2024-03-01'], env);
    await atHash;

    // The old progress line said only "0/1 tables done" for as long as the first run took.
    const giveUp = setTimeout(release, 20_000);
    const second = await cdcflow(['run', '--config', configPath, '--date', '2024-03-02'], env, (stderr) => {
      if (stderr.includes("waiting for the dataset's turn")) release();
      return false;
    });
    clearTimeout(giveUp);
    expect(second.stderr).toContain(
      `${dataset} 2024-03-02: 0/1 tables done | waiting for the dataset's turn: ${datasetWorkflowId(dataset, '2024-03-01')} holds it (queue ${datasetQueueWorkflowId(dataset)})`,
    );
    expect(second.code).toBe(0);
    expect((await first).code).toBe(0);
  }, 90_000);

  it('without a terminal, prints an unchanged line again once a minute, so a log shows the stage still going and for how long', async () => {
    const dir = tempDir();
    const dataset = uniqueDataset('cli-log');
    writeCsv(path.join(dir, 'items.csv'), ['id', 'v'], [[1, 'a']]);
    const configPath = path.join(dir, 'dataset.yaml');
    writeFileSync(
      configPath,
      stringify({
        dataset,
        warehouse: 'wh',
        // The held stage does not heartbeat (the hook runs before it starts): no retry within the test.
        heartbeatTimeoutSeconds: 300,
        tables: [{ name: 'items', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: 'items.csv' } }],
      }),
    );
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    hashGate = { arrived: () => undefined, released };
    const stageLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith(`${dataset} 2024-03-05: 0/1 tables done | items:`));
    // The old CLI printed the line once and nothing more until the stage ended (here: the safety release).
    const giveUp = setTimeout(release, 80_000);
    const out = await cdcflow(['run', '--config', configPath, '--date', '2024-03-05'], { TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue }, (stderr) => {
      if (stageLines(stderr).length >= 2) release();
      return false;
    });
    clearTimeout(giveUp);
    expect(out.code).toBe(0);
    const [once, again] = stageLines(out.stderr);
    expect(again?.replace(/ \d+s$/, '')).toBe(once.replace(/ \d+s$/, ''));
    expect(Number(/ (\d+)s$/.exec(again)![1]) - Number(/ (\d+)s$/.exec(once)![1])).toBeGreaterThanOrEqual(59);
  }, 120_000);
});

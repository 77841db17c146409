/**
 * Schedules on the real server, through the CLI as an operator runs it: `schedule apply` is
 * idempotent, follows config changes and removals; a triggered or backfilled action processes
 * the business date of its scheduled time; `schedule backfill` runs past dates in order and
 * ends where running them by hand ends.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { stringify } from 'yaml';
import { backfillDates } from '../../src/client/schedules/backfill-dates';
import { listDatasetSchedules } from '../../src/client/schedules/list-schedules';
import { scheduleId, scheduledWorkflowIdBase } from '../../src/client/schedules/schedule-ids';
import { loadConfig } from '../../src/config/load';
import type { DatasetRunResult } from '../../src/workflows';
import { businessDateFor } from '../../src/workflows/business-date';
import { datasetWorkflowId } from '../../src/workflows/ids';
import { cdcflow } from '../support/cli';
import { type Harness, readRows, renameDataset, runDataset, startHarness, tempDir, uniqueDataset, writeCsv } from '../support/harness';

const DAYS: Record<string, (string | number)[][]> = {
  '2024-01-01': [[1, 'a'], [2, 'b'], [3, 'c']],
  '2024-01-02': [[1, 'a'], [2, 'B'], [4, 'd']],
  '2024-01-03': [[2, 'B'], [4, 'D'], [5, 'e']],
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('cdcflow schedule', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness();
    dir = tempDir();
    for (const [date, rows] of Object.entries(DAYS)) writeCsv(path.join(dir, `${date}.csv`), ['id', 'v'], rows);
  });
  afterAll(() => h?.stop());

  const env = () => ({ TEMPORAL_ADDRESS: h.settings.address, CDCFLOW_TASK_QUEUE: h.settings.taskQueue });

  /** A config file in `dir` for `dataset`, with these schedules, reading `source` (relative to `dir`); returns its path. */
  function writeDataset(dataset: string, schedules: object[] = [], source = '{date}.csv'): string {
    const file = path.join(dir, `${dataset}.yaml`);
    const table = { name: 'items', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: source } };
    writeFileSync(file, stringify({ dataset, warehouse: 'wh', tables: [table], schedules }));
    return file;
  }

  async function apply(config: string): Promise<string[]> {
    const out = await cdcflow(['schedule', 'apply', '--config', config], env());
    expect(out).toMatchObject({ code: 0 });
    return out.stdout.trim().split('\n').map((line) => line.replace(/\s+/g, ' '));
  }

  it('apply creates, changes nothing the second time, updates a changed schedule and deletes a removed one', async () => {
    const dataset = uniqueDataset('sched');
    const daily = { name: 'daily', cron: ['0 4 * * *'], timeZone: 'Europe/Paris', paused: true };
    const weekly = { name: 'weekly', cron: ['0 3 * * 0'], mode: 'full', businessDate: 'scheduled-day', paused: true };
    const config = writeDataset(dataset, [daily, weekly]);
    const [dailyId, weeklyId] = [scheduleId(dataset, 'daily'), scheduleId(dataset, 'weekly')];

    expect(await apply(config)).toEqual([`created ${dailyId}`, `created ${weeklyId}`]);
    expect(await apply(config)).toEqual([`unchanged ${dailyId}`, `unchanged ${weeklyId}`]);
    const before = await h.client.schedule.getHandle(dailyId).describe();
    expect(before.spec.timezone).toBe('Europe/Paris');
    expect(before.state.paused).toBe(true);
    expect(before.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);

    writeDataset(dataset, [{ ...daily, cron: ['30 5 * * *'], overlap: 'buffer-one' }, weekly]);
    expect(await apply(config)).toEqual([`updated ${dailyId}`, `unchanged ${weeklyId}`]);
    const after = await h.client.schedule.getHandle(dailyId).describe();
    expect(after.policies.overlap).toBe(ScheduleOverlapPolicy.BUFFER_ONE);
    const hourInParis = (d: Date) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(d);
    expect(after.info.nextActionTimes.map(hourInParis)).toEqual(after.info.nextActionTimes.map(() => '05:30'));
    expect(await apply(config)).toEqual([`unchanged ${dailyId}`, `unchanged ${weeklyId}`]);

    // Removal is found through the server's schedule list, which may lag a fresh create.
    await eventually('both schedules listed', async () => ((await listDatasetSchedules(h.client, dataset)).length === 2 ? true : undefined));
    writeDataset(dataset, [{ ...daily, cron: ['30 5 * * *'], overlap: 'buffer-one' }]);
    expect(await apply(config)).toEqual([`unchanged ${dailyId}`, `deleted ${weeklyId}`]);
    await expect(h.client.schedule.getHandle(weeklyId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);

    const list = await cdcflow(['schedule', 'list', '--config', config, '--json'], env());
    expect(JSON.parse(list.stdout).schedules).toEqual([expect.objectContaining({ scheduleId: dailyId, paused: true, timeZone: 'Europe/Paris' })]);
    expect((await cdcflow(['schedule', 'delete', '--config', config], env())).stdout).toBe(`deleted ${dailyId}\n`);
  });

  it('apply refuses a cron time that the clocks of its zone skip or repeat, and creates nothing; other times and zones pass', async () => {
    const dataset = uniqueDataset('dst');
    const refused = async (schedule: object) => {
      const out = await cdcflow(['schedule', 'apply', '--config', writeDataset(dataset, [schedule])], env());
      expect(out.code).toBe(1);
      return out.stderr;
    };
    // Temporal's server started no run on the day Paris skips 02:00-03:00, and two on the day New York repeats 01:00-02:00.
    expect(await refused({ name: 'daily', cron: ['30 2 * * *'], timeZone: 'Europe/Paris', paused: true })).toMatch(
      /^cdcflow: schedule daily: Temporal would start no run on (\d{4})-03-(\d\d), when Europe\/Paris changes from UTC\+01:00 to UTC\+02:00, so business date \1-03-\d\d would never be run\. Give the cron a time at least an hour away from the clock changes, or use timeZone UTC/,
    );
    expect(await refused({ name: 'daily', cron: ['30 1 * * *'], timeZone: 'America/New_York', businessDate: 'scheduled-day', paused: true })).toMatch(
      /Temporal would start 2 runs on (\d{4}-11-\d\d), when America\/New_York changes from UTC-04:00 to UTC-05:00, so business date \1 would be run 2 times/,
    );
    expect(await listDatasetSchedules(h.client, dataset)).toEqual([]);
    await expect(h.client.schedule.getHandle(scheduleId(dataset, 'daily')).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);

    const fine = [
      { name: 'paris', cron: ['0 4 * * *'], timeZone: 'Europe/Paris', paused: true },
      { name: 'kathmandu', cron: ['30 2 * * *'], timeZone: 'Asia/Kathmandu', paused: true },
      { name: 'chatham', cron: ['0 6 * * *'], timeZone: 'Pacific/Chatham', paused: true },
    ];
    // A check copy left by an apply that stopped halfway is replaced, and removed after.
    const leftover = `${scheduleId(dataset, 'paris')}/clock-check`;
    await h.client.schedule.create({ scheduleId: leftover, spec: { intervals: [{ every: '1d' }] }, action: { type: 'startWorkflow', workflowType: 'none', taskQueue: 'none' }, state: { paused: true } });
    expect(await apply(writeDataset(dataset, fine))).toEqual(fine.map((s) => `created ${scheduleId(dataset, s.name)}`));
    await expect(h.client.schedule.getHandle(leftover).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await cdcflow(['schedule', 'delete', '--config', writeDataset(dataset, fine)], env());
  });

  it('list shows each schedule\'s cron expressions and intervals as the config gives them, and a pause made just before', async () => {
    const dataset = uniqueDataset('list');
    const cron = ['*/15 8-18 1 1,6 1-5', '30 5 * * *', '0 0 29 2 *'];
    const config = writeDataset(dataset, [{ name: 'daily', cron, every: '12h' }]);
    const id = scheduleId(dataset, 'daily');
    expect(await apply(config)).toEqual([`created ${id}`]);
    expect(await cdcflow(['schedule', 'pause', '--config', config], env())).toMatchObject({ code: 0 });
    const text = await cdcflow(['schedule', 'list', '--config', config], env());
    expect(text.stdout.split('\n').slice(0, 2)).toEqual([
      `${id}  PAUSED (paused with cdcflow schedule pause)`,
      `  cron "*/15 8-18 1 1,6 1-5", cron "30 5 * * *", cron "0 0 29 2 *", every 12h  time zone UTC`,
    ]);
    const json = JSON.parse((await cdcflow(['schedule', 'list', '--config', config, '--json'], env())).stdout);
    expect(json.schedules).toEqual([expect.objectContaining({ scheduleId: id, paused: true, cron, intervals: ['12h'] })]);
    await h.client.schedule.getHandle(id).delete();
  });

  it("an operator's pause survives an apply that changes the schedule; a change of the config's paused is applied", async () => {
    const dataset = uniqueDataset('keep');
    const daily = { name: 'daily', cron: ['0 2 * * *'] };
    const config = writeDataset(dataset, [daily]);
    const id = scheduleId(dataset, 'daily');
    const paused = async () => (await h.client.schedule.getHandle(id).describe()).state.paused;
    expect(await apply(config)).toEqual([`created ${id}`]);
    expect(await paused()).toBe(false);

    expect(await cdcflow(['schedule', 'pause', '--config', config, '--name', 'daily'], env())).toMatchObject({ code: 0 });
    writeDataset(dataset, [{ ...daily, cron: ['30 5 * * *'] }]);
    expect(await apply(config)).toEqual([`updated ${id}`]);
    expect(await paused()).toBe(true);

    // The config's own paused, when it changes, is what the operator asks for now.
    writeDataset(dataset, [{ ...daily, cron: ['30 5 * * *'], paused: true }]);
    expect(await apply(config)).toEqual([`updated ${id}`]);
    expect(await paused()).toBe(true);
    writeDataset(dataset, [{ ...daily, cron: ['30 5 * * *'], paused: false }]);
    expect(await apply(config)).toEqual([`updated ${id}`]);
    expect(await paused()).toBe(false);
    await h.client.schedule.getHandle(id).delete();
  });

  it('pause, unpause, trigger and delete of a schedule the server lacks are refused, naming those it has', async () => {
    const dataset = uniqueDataset('noname');
    const config = writeDataset(dataset, [{ name: 'daily', cron: ['0 2 * * *'], paused: true }]);
    expect(await apply(config)).toEqual([`created ${scheduleId(dataset, 'daily')}`]);
    for (const operation of ['pause', 'unpause', 'trigger', 'delete']) {
      const out = await cdcflow(['schedule', operation, '--config', config, '--name', 'nightly'], env());
      expect({ operation, code: out.code, stderr: out.stderr }).toEqual({
        operation,
        code: 1,
        stderr: `cdcflow: --name: ${dataset} has no schedule nightly on the server (schedules there: daily; cdcflow schedule apply creates the config's)\n`,
      });
    }
    expect((await cdcflow(['schedule', 'delete', '--config', config, '--name', 'daily'], env())).stdout).toBe(`deleted ${scheduleId(dataset, 'daily')}\n`);
  });

  it('a triggered schedule runs the business date of its scheduled time, with its mode', async () => {
    const dataset = uniqueDataset('trig');
    const zone = 'Pacific/Kiritimati'; // UTC+14: its day is rarely the UTC day
    const expected = businessDateFor(new Date(), zone, -1);
    // A folder of its own: a delta table's first date with the other tests' earlier batches beside it is refused.
    mkdirSync(path.join(dir, dataset));
    writeCsv(path.join(dir, dataset, `${expected}.csv`), ['id', 'v'], [[7, 'x']]);
    const config = writeDataset(dataset, [{ name: 'nightly', every: '1d', timeZone: zone, businessDate: 'previous-day', mode: 'delta', paused: true }], `${dataset}/{date}.csv`);
    await apply(config);
    expect((await cdcflow(['schedule', 'trigger', '--config', config, '--name', 'nightly'], env())).stdout).toBe(`triggered ${scheduleId(dataset, 'nightly')}\n`);
    const workflowId = await eventually('the triggered run', async () => (await h.client.schedule.getHandle(scheduleId(dataset, 'nightly')).describe()).info.recentActions[0]?.action.workflow.workflowId);
    const run: DatasetRunResult = await h.client.workflow.getHandle(workflowId).result();
    expect(run.businessDate).toBe(expected);
    expect(run.tables[0]).toMatchObject({ status: 'completed', result: { businessDate: expected, mode: 'delta', counts: { I: 1 } } });
    await h.client.schedule.getHandle(scheduleId(dataset, 'nightly')).delete();
  });

  it('an action scheduled in the past (the schedule\'s own backfill) processes its own date, not today', async () => {
    const dataset = uniqueDataset('past');
    const config = writeDataset(dataset, [{ name: 'daily', cron: ['0 2 * * *'], timeZone: 'UTC', businessDate: 'previous-day', paused: true }]);
    await apply(config);
    await h.client.schedule.getHandle(scheduleId(dataset, 'daily')).backfill({
      start: new Date('2024-01-02T01:59:00Z'),
      end: new Date('2024-01-02T02:01:00Z'),
      overlap: ScheduleOverlapPolicy.ALLOW_ALL,
    });
    const handle = h.client.workflow.getHandle<() => Promise<DatasetRunResult>>(`${scheduledWorkflowIdBase(dataset, 'daily')}-2024-01-02T02:00:00Z`);
    const run = await eventually('the backfilled run', () => handle.result());
    expect(run.businessDate).toBe('2024-01-01');
    expect(run.tables[0]).toMatchObject({ status: 'completed', result: { counts: { I: 3 } } });
    await h.client.schedule.getHandle(scheduleId(dataset, 'daily')).delete();
  });

  it("schedule backfill unpauses, when done, a schedule an interrupted backfill left paused, and leaves an operator's pause", async () => {
    const dataset = uniqueDataset('resume');
    const config = writeDataset(dataset, [{ name: 'left', cron: ['0 2 * * *'] }, { name: 'held', cron: ['0 3 * * *'] }]);
    await apply(config);
    const [left, held] = [scheduleId(dataset, 'left'), scheduleId(dataset, 'held')];
    // What a backfill stopped midway (Ctrl-C) leaves: its pause, with its note.
    await h.client.schedule.getHandle(left).pause('paused by cdcflow schedule backfill');
    await h.client.schedule.getHandle(held).pause('maintenance');
    await eventually('both listed as paused', async () => ((await listDatasetSchedules(h.client, dataset)).filter((s) => s.state.paused).length === 2 ? true : undefined));

    expect(await cdcflow(['schedule', 'backfill', '--config', config, '--from', '2024-01-01', '--to', '2024-01-01'], env())).toMatchObject({ code: 0 });
    expect((await h.client.schedule.getHandle(left).describe()).state.paused).toBe(false);
    expect((await h.client.schedule.getHandle(held).describe()).state.paused).toBe(true);
    for (const id of [left, held]) await h.client.schedule.getHandle(id).delete();
  });

  it("schedule backfill keeps an operator's pause made just before it, which the server's schedule list does not show yet", async () => {
    const dataset = uniqueDataset('fresh');
    const config = loadConfig(writeDataset(dataset, [{ name: 'daily', cron: ['0 2 * * *'] }]));
    await apply(path.join(dir, `${dataset}.yaml`));
    const handle = h.client.schedule.getHandle(scheduleId(dataset, 'daily'));
    // The list lags the pause by some milliseconds here (seconds on a loaded server): each round is a chance to read it stale.
    for (let round = 1; round <= 4; round++) {
      await handle.pause(`maintenance ${round}`);
      expect(await backfillDates(h.client, h.settings, config, { from: '2024-01-01', to: '2024-01-01' })).toEqual([expect.objectContaining({ ok: true })]);
      expect((await handle.describe()).state).toMatchObject({ paused: true, note: `maintenance ${round}` });
      await handle.unpause();
    }
    await handle.delete();
  });

  it('schedule backfill runs three past dates in order, one at a time, and ends as running them by hand does', async () => {
    const dataset = uniqueDataset('bf');
    const config = writeDataset(dataset);
    const out = await cdcflow(['schedule', 'backfill', '--config', config, '--from', '2024-01-01', '--to', '2024-01-03'], env());
    expect(out.code).toBe(0);
    expect([...out.stdout.matchAll(new RegExp(`^${dataset} (\\S+)$`, 'gm'))].map((m) => m[1])).toEqual(['2024-01-01', '2024-01-02', '2024-01-03']);

    const runs = await Promise.all(Object.keys(DAYS).map((d) => h.client.workflow.getHandle(datasetWorkflowId(dataset, d)).describe()));
    for (let i = 1; i < runs.length; i++) expect(runs[i].startTime.getTime()).toBeGreaterThanOrEqual(runs[i - 1].closeTime!.getTime());

    const byHand = renameDataset(loadConfig(config), uniqueDataset('hand'));
    for (const date of Object.keys(DAYS)) expect((await runDataset(h, byHand, date)).ok).toBe(true);
    const outputs = async (name: string) => ({
      current: await readRows(h.engine, path.join(dir, 'wh', name, 'items', 'current.parquet'), 'id'),
      history: await readRows(h.engine, path.join(dir, 'wh', name, 'items', 'history', '*', '*.parquet'), 'eff_start_date, id'),
    });
    const backfilled = await outputs(dataset);
    expect(backfilled.history).toHaveLength(3 + 3 + 3);
    expect(backfilled).toEqual(await outputs(byHand.dataset));
  });
});

/** Schedules as pure logic: config, business dates, the desired Temporal Schedule, date ranges. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { clockChangeDays, clockChangeProblems } from '../../src/client/schedules/clock-changes';
import { desiredSchedule } from '../../src/client/schedules/desired-schedule';
import { datesBetween } from '../../src/client/schedules/backfill-dates';
import { checkConfigText, resolveConfig } from '../../src/config/load';
import type { DatasetConfig } from '../../src/config/types';
import { metricsAddress, temporalSettings } from '../../src/settings';
import { businessDateFor } from '../../src/workflows/business-date';
import { CDCFLOW_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';

const BASE = 'dataset: shop\nwarehouse: wh\ntables:\n  - name: t\n    keys: [{ name: id, type: integer }]\n    source: { format: csv, path: "{date}/t.csv" }\n';

function config(schedules: string): DatasetConfig {
  const { file, problems } = checkConfigText(`${BASE}schedules:\n${schedules}`);
  if (!file) throw new Error(JSON.stringify(problems));
  return resolveConfig(file, '/etc/cdc');
}

describe('schedule config', () => {
  it('resolves defaults and the business-date rule to an offset in days', () => {
    const c = config('  - { cron: ["0 2 * * *"] }\n  - { name: weekly, every: 7d, timeZone: Europe/Paris, businessDate: scheduled-day, mode: full }\n  - { name: shifted, every: 1h, businessDate: { offsetDays: -2 } }\n');
    expect(c.schedules).toEqual([
      { name: 'daily', cron: ['0 2 * * *'], timeZone: 'UTC', businessDateOffsetDays: -1, overlap: 'skip', catchupWindow: '1d', paused: false },
      { name: 'weekly', cron: [], every: '7d', timeZone: 'Europe/Paris', businessDateOffsetDays: 0, overlap: 'skip', catchupWindow: '1d', mode: 'full', paused: false },
      { name: 'shifted', cron: [], every: '1h', timeZone: 'UTC', businessDateOffsetDays: -2, overlap: 'skip', catchupWindow: '1d', paused: false },
    ]);
  });

  it('spells a time zone written in another case as the time zone database does, which Temporal\'s server needs', () => {
    // The server refused `europe/paris` at apply (unknown time zone), which validate had passed.
    const c = config('  - { cron: ["0 4 * * *"], timeZone: europe/paris }\n  - { name: b, every: 1d, timeZone: utc }\n  - { name: c, every: 1d, timeZone: US/Eastern }\n');
    expect(c.schedules.map((s) => s.timeZone)).toEqual(['Europe/Paris', 'UTC', 'US/Eastern']);
  });

  it('reports a schedule without timing, an unknown time zone, a malformed duration and a duplicate name', () => {
    const { problems } = checkConfigText(`${BASE}schedules:\n  - { name: a }\n  - { name: b, every: 1h, timeZone: Mars/Olympus }\n  - { name: c, every: hourly }\n  - { name: b, cron: ["0 1 * * *"], overlap: allow }\n`);
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['schedules[0]', 8],
      ['schedules[1].timeZone', 9],
      ['schedules[2].every', 10],
      ['schedules[3].overlap', 11],
    ]);
    expect(problems[0].message).toBe('needs cron or every');
    const duplicate = checkConfigText(`${BASE}schedules:\n  - { name: b, every: 1h }\n  - { name: b, every: 2h }\n`).problems;
    expect(duplicate).toEqual([expect.objectContaining({ path: 'schedules[1].name', message: 'duplicates schedule "b"' })]);
  });
});

describe('business date of a scheduled run', () => {
  it('is the scheduled day in the schedule\'s time zone plus the offset, across month and year ends', () => {
    const at = new Date('2024-03-01T23:30:00Z');
    expect(businessDateFor(at, 'UTC', 0)).toBe('2024-03-01');
    expect(businessDateFor(at, 'UTC', -1)).toBe('2024-02-29');
    expect(businessDateFor(at, 'Europe/Paris', 0)).toBe('2024-03-02');
    expect(businessDateFor(at, 'Europe/Paris', -1)).toBe('2024-03-01');
    expect(businessDateFor(at, 'America/Los_Angeles', -1)).toBe('2024-02-29');
    expect(businessDateFor(new Date('2025-01-01T00:30:00Z'), 'UTC', -1)).toBe('2024-12-31');
  });
});

describe('clock changes of a schedule\'s time zone', () => {
  const from = new Date('2024-01-01T00:00:00Z');
  /** A run at hh:mm local time on every day of 2024 that has that time in `zone`. */
  function dailyAt(zone: string, hhmm: string): Date[] {
    const times: Date[] = [];
    for (let day = Date.parse('2024-01-01T00:00:00Z'); day < Date.parse('2025-01-01T00:00:00Z'); day += 86_400_000) {
      const wall = Date.parse(`${new Date(day).toISOString().slice(0, 10)}T${hhmm}:00Z`);
      // The instant whose local time in `zone` is `wall`: try each offset the zone has that day.
      const found = [-14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
        .flatMap((h) => [h * 60, h * 60 + 30, h * 60 + 45])
        .map((m) => new Date(wall - m * 60_000))
        .find((t) => new Intl.DateTimeFormat('sv-SE', { timeZone: zone, dateStyle: 'short', timeStyle: 'short' }).format(t) === `${new Date(wall).toISOString().slice(0, 10)} ${hhmm}`);
      if (found) times.push(found);
    }
    return times;
  }

  it('finds the days a zone changes its clocks, also by half an hour, and none in a zone without', () => {
    expect([...clockChangeDays('Europe/Paris', from, 366)]).toEqual([
      ['2024-03-31', 'UTC+01:00 to UTC+02:00'],
      ['2024-10-27', 'UTC+02:00 to UTC+01:00'],
    ]);
    expect([...clockChangeDays('Australia/Lord_Howe', from, 366).keys()]).toEqual(['2024-04-07', '2024-10-06']);
    expect(clockChangeDays('Asia/Kathmandu', from, 366).size).toBe(0);
  });

  it('reports a day without its run (the clocks skip its time) and a day with two, naming the business date', () => {
    // What Temporal's server started in 2024 for 30 2 * * * in Paris (no run on 2024-03-31) and 30 1 * * * in New York (two on 2024-11-03).
    const paris = dailyAt('Europe/Paris', '02:30');
    expect(paris).toHaveLength(365);
    expect(clockChangeProblems(paris, 'Europe/Paris', -1, from, 366)).toEqual([
      'no run on 2024-03-31, when Europe/Paris changes from UTC+01:00 to UTC+02:00, so business date 2024-03-30 would never be run',
    ]);
    const newYork = [...dailyAt('America/New_York', '01:30'), new Date('2024-11-03T05:30:00Z')];
    expect(clockChangeProblems(newYork, 'America/New_York', 0, from, 366)).toEqual([
      '2 runs on 2024-11-03, when America/New_York changes from UTC-04:00 to UTC-05:00, so business date 2024-11-03 would be run 2 times',
    ]);
    expect(clockChangeProblems(dailyAt('Europe/Paris', '04:00'), 'Europe/Paris', -1, from, 366)).toEqual([]);
  });
});

describe('desired schedule', () => {
  const settings = { ...temporalSettings({}), taskQueue: 'q' };
  const two = config('  - { name: daily, cron: ["0 2 * * *"], timeZone: Europe/Paris, overlap: buffer-one, catchupWindow: 6h }\n  - { name: weekly, cron: ["0 3 * * 0"], mode: full }\n');

  it('starts datasetWorkflow with the date rule and mode, under readable IDs', () => {
    const weekly = desiredSchedule(two, two.schedules[1], settings);
    expect(weekly.scheduleId).toBe('cdcflow/shop/schedule/weekly');
    expect(weekly.options.action).toMatchObject({ workflowType: 'datasetWorkflow', workflowId: 'cdcflow/shop/scheduled/weekly', taskQueue: 'q' });
    expect(weekly.options.action.args?.[0]).toMatchObject({ mode: 'full', schedule: { timeZone: 'UTC', businessDateOffsetDays: -1 }, config: { dataset: 'shop', schedules: [] } });
    const daily = desiredSchedule(two, two.schedules[0], settings);
    expect(daily.options.policies).toEqual({ overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '6h' });
    expect(daily.options.spec).toEqual({ cronExpressions: ['0 2 * * *'], intervals: [], timezone: 'Europe/Paris' });
  });

  it('has a fingerprint that changes with its own settings and the tables, not with other schedules', () => {
    const fingerprint = (c: DatasetConfig, i: number) => desiredSchedule(c, c.schedules[i], settings).fingerprint;
    const otherChanged = config('  - { name: daily, cron: ["0 2 * * *"], timeZone: Europe/Paris, overlap: buffer-one, catchupWindow: 6h }\n  - { name: weekly, cron: ["0 4 * * 0"], mode: full }\n');
    expect(fingerprint(otherChanged, 0)).toBe(fingerprint(two, 0));
    expect(fingerprint(otherChanged, 1)).not.toBe(fingerprint(two, 1));
    const tableChanged = { ...two, tables: [{ ...two.tables[0], mode: 'delta' as const }] };
    expect(fingerprint(tableChanged, 0)).not.toBe(fingerprint(two, 0));
    expect(desiredSchedule(two, two.schedules[0], { ...settings, taskQueue: 'other' }).fingerprint).not.toBe(fingerprint(two, 0));
  });
});

describe('backfill dates', () => {
  it('lists every date from --from to --to, across a leap day, and refuses bad ranges', () => {
    expect(datesBetween('2024-02-27', '2024-03-01')).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
    expect(datesBetween('2024-01-01', '2024-01-01')).toEqual(['2024-01-01']);
    expect(() => datesBetween('2024-01-03', '2024-01-01')).toThrow('--from 2024-01-03 is after --to 2024-01-01');
    expect(() => datesBetween('2024-02-30', '2024-03-01')).toThrow(/^--from: /);
  });
});

describe('operations settings', () => {
  it('registers the same search attributes in the scripts as the code sets', () => {
    const lib = readFileSync(path.resolve(__dirname, '../../scripts/lib.sh'), 'utf8');
    const list = /CDCFLOW_SEARCH_ATTRIBUTES=\(([^)]*)\)/.exec(lib)![1].trim().split(/\s+/);
    expect(list).toEqual(CDCFLOW_SEARCH_ATTRIBUTES.map((k) => `${k.name}=${k.type[0]}${k.type.slice(1).toLowerCase()}`));
    const compose = readFileSync(path.resolve(__dirname, '../../docker-compose.yml'), 'utf8');
    for (const k of CDCFLOW_SEARCH_ATTRIBUTES) expect(compose).toMatch(new RegExp(`--name ${k.name} --type ${k.type[0]}${k.type.slice(1).toLowerCase()}\\b`));
  });

  it('serves metrics only when CDCFLOW_METRICS_PORT is set, and refuses a bad port', () => {
    expect(metricsAddress({})).toBeUndefined();
    expect(metricsAddress({ CDCFLOW_METRICS_PORT: '9464' })).toBe('0.0.0.0:9464');
    expect(metricsAddress({ CDCFLOW_METRICS_PORT: '9464', CDCFLOW_METRICS_HOST: '127.0.0.1' })).toBe('127.0.0.1:9464');
    expect(() => metricsAddress({ CDCFLOW_METRICS_PORT: 'x' })).toThrow('CDCFLOW_METRICS_PORT must be a port number');
  });
});

/**
 * Temporal's cron in a time zone starts no run on the day the clocks go forward when its time
 * falls in (or, at some times, near) the skipped hour, and two runs on the day they go back
 * (measured on the dev server: `30 2 * * *` in Europe/Paris has no run on 2024-03-31, `0 1 * * *`
 * two on 2024-10-27). A scheduled run's business date follows its day, so one date would never
 * be run and another twice. `schedule apply` asks the server when a schedule would run, through a
 * paused copy of it, and refuses one that does so, before the schedule itself is changed.
 */
import { type Client, ScheduleNotFoundError } from '@temporalio/client';
import { msToTs, tsToDate } from '@temporalio/common/lib/time';
import type { ScheduleConfig } from '../../config/types';
import { ConfigError } from '../../errors';
import { businessDateFor } from '../../workflows/business-date';
import type { DesiredSchedule } from './desired-schedule';

const DAY_MS = 86_400_000;
/** A year and a week: every clock change of the zone once, and a week either side of it. */
const PROBE_DAYS = 380;

/** The zone's UTC offset at an instant, as Intl writes it (`GMT+01:00`). */
function offsetReader(timeZone: string): (at: number) => string {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  return (at) => format.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? '';
}

/** The local days from `from` on (`days` of them) on which the zone's offset changes, with the offsets before and after. */
export function clockChangeDays(timeZone: string, from: Date, days: number): Map<string, string> {
  const offsetAt = offsetReader(timeZone);
  const changes = new Map<string, string>();
  let previous = offsetAt(from.getTime());
  // Hourly: no zone changes its clocks twice within an hour.
  for (let t = from.getTime() + 3_600_000; t < from.getTime() + days * DAY_MS; t += 3_600_000) {
    const offset = offsetAt(t);
    if (offset !== previous) changes.set(businessDateFor(new Date(t), timeZone, 0), `${previous.replace('GMT', 'UTC')} to ${offset.replace('GMT', 'UTC')}`);
    previous = offset;
  }
  return changes;
}

/** The day `days` after the YYYY-MM-DD `date`. */
function dayAfter(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * What is wrong with a schedule that runs at `times`: on a day the clocks change, no run where the
 * same weekday a week before and after has one, or two where those have one. Empty when nothing is.
 */
export function clockChangeProblems(times: readonly Date[], timeZone: string, offsetDays: number, from: Date, days: number): string[] {
  const runsOn = new Map<string, number>();
  for (const t of times) {
    const day = businessDateFor(t, timeZone, 0);
    runsOn.set(day, (runsOn.get(day) ?? 0) + 1);
  }
  const count = (day: string) => runsOn.get(day) ?? 0;
  const problems: string[] = [];
  for (const [day, change] of clockChangeDays(timeZone, from, days)) {
    const usual = count(dayAfter(day, -7));
    if (usual !== count(dayAfter(day, 7))) continue;
    const date = dayAfter(day, offsetDays);
    if (usual > 0 && count(day) === 0) problems.push(`no run on ${day}, when ${timeZone} changes from ${change}, so business date ${date} would never be run`);
    if (usual === 1 && count(day) > 1) problems.push(`${count(day)} runs on ${day}, when ${timeZone} changes from ${change}, so business date ${date} would be run ${count(day)} times`);
  }
  return problems;
}

/** When the server would start the schedule's actions from `from` on, asked of a paused copy of it that is removed after. */
async function matchingTimes(client: Client, desired: DesiredSchedule, from: Date): Promise<Date[]> {
  const probeId = `${desired.scheduleId}/clock-check`;
  const { spec } = desired.options;
  // One left by an apply that stopped between creating and removing it.
  await client.schedule
    .getHandle(probeId)
    .delete()
    .catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
  await client.schedule.create({ ...desired.options, scheduleId: probeId, spec: { ...spec, intervals: [] }, state: { paused: true, note: 'cdcflow schedule apply: clock-change check' } });
  try {
    const { startTime } = await client.workflowService.listScheduleMatchingTimes({
      namespace: client.options.namespace,
      scheduleId: probeId,
      startTime: msToTs(from.getTime()),
      endTime: msToTs(from.getTime() + PROBE_DAYS * DAY_MS),
    });
    return (startTime ?? []).map((t) => tsToDate(t));
  } finally {
    await client.schedule.getHandle(probeId).delete();
  }
}

/** Refuses a schedule whose cron skips or repeats a business date where its time zone changes its clocks. */
export async function assertNoClockChangeGaps(
  client: Client,
  desired: DesiredSchedule,
  schedule: Pick<ScheduleConfig, 'name' | 'timeZone' | 'businessDateOffsetDays'>,
  dataset: string,
  from = new Date(),
): Promise<void> {
  if (!desired.options.spec.cronExpressions?.length || clockChangeDays(schedule.timeZone, from, PROBE_DAYS).size === 0) return;
  const times = await matchingTimes(client, desired, from);
  const problems = clockChangeProblems(times, schedule.timeZone, schedule.businessDateOffsetDays, from, PROBE_DAYS);
  if (problems.length === 0) return;
  throw new ConfigError(
    `schedule ${schedule.name}: Temporal would start ${problems.join('; and ')}. Give the cron a time at least an hour away from the clock changes, or use timeZone UTC`,
    { dataset },
  );
}

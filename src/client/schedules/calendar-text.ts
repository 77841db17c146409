/**
 * A schedule's calendars as cron text. The server keeps a cron expression as a structured
 * calendar (ranges of minutes, hours, …, months and weekdays by name) and describes it so; this
 * writes it back in the form the config gives it, e.g. `0 2 * * 1-5`.
 */
import { type CalendarSpecDescription, DAYS_OF_WEEK, MONTHS, type Range } from '@temporalio/client';

interface Field {
  values: readonly Range<number>[];
  low: number;
  high: number;
}

function rangeText({ start, end, step }: Range<number>, { low, high }: Field): string {
  const last = end ?? start;
  const every = step > 1 ? `/${step}` : '';
  if (start === low && last === high) return `*${every}`;
  return `${last === start ? start : `${start}-${last}`}${every}`;
}

function fieldText(field: Field): string {
  return field.values.map((r) => rangeText(r, field)).join(',') || '*';
}

const byNumber = <T extends string>(names: readonly T[], offset: number) => (values: readonly Range<T>[]) =>
  values.map(({ start, end, step }) => ({ start: names.indexOf(start) + offset, end: names.indexOf(end ?? start) + offset, step }));

const monthNumbers = byNumber(MONTHS, 1);
const weekdayNumbers = byNumber(DAYS_OF_WEEK, 0);

/** `minute hour day-of-month month day-of-week`, led by the second when it is not 0. */
export function calendarText(c: CalendarSpecDescription): string {
  const fields: Field[] = [
    { values: c.minute, low: 0, high: 59 },
    { values: c.hour, low: 0, high: 23 },
    { values: c.dayOfMonth, low: 1, high: 31 },
    { values: monthNumbers(c.month), low: 1, high: 12 },
    { values: weekdayNumbers(c.dayOfWeek), low: 0, high: 6 },
  ];
  const second = fieldText({ values: c.second, low: 0, high: 59 });
  return [...(second === '0' ? [] : [second]), ...fields.map(fieldText)].join(' ');
}

/**
 * The business date of a run a Schedule started: the scheduled time (Temporal's
 * TemporalScheduledStartTime), seen in the schedule's time zone, plus an offset in days.
 * Never the wall clock, so a late, caught-up or backfilled action processes its own date.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { SCHEDULED_START_KEY } from './search-attributes';

export interface ScheduledDateRule {
  timeZone: string;
  /** Days added to the scheduled day: -1 processes the day before. */
  businessDateOffsetDays: number;
}

/** The calendar day of `at` in `timeZone`, plus `offsetDays`, as YYYY-MM-DD. */
export function businessDateFor(at: Date, timeZone: string, offsetDays: number): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const day = new Date(Date.UTC(part('year'), part('month') - 1, part('day') + offsetDays));
  return day.toISOString().slice(0, 10);
}

/** The business date of this scheduled run; a run started by hand must name its date. */
export function scheduledBusinessDate(rule: ScheduledDateRule | undefined): string {
  const at = workflowInfo().typedSearchAttributes.get(SCHEDULED_START_KEY);
  if (!at || !rule) {
    throw ApplicationFailure.nonRetryable('a run needs a businessDate unless a cdcflow Schedule started it', 'ConfigError');
  }
  return businessDateFor(at, rule.timeZone, rule.businessDateOffsetDays);
}

/** A business date: YYYY-MM-DD naming a real day. Pure, so workflow code checks dates with it too. */
export function isIsoDate(date: string): boolean {
  const parsed = new Date(`${date}T00:00:00Z`);
  // Date rolls 2024-02-30 over to March instead of refusing it; the round trip catches that.
  return /^\d{4}-\d{2}-\d{2}$/.test(date) && !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date);
}

/** Dates for a message: the first five, and how many more. */
export function namedDates(dates: readonly string[]): string {
  return dates.length > 5 ? `${dates.slice(0, 5).join(', ')} and ${dates.length - 5} more` : dates.join(', ');
}

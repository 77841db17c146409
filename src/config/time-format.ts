/**
 * A column's `format`: how a date or timestamp is written in a text source, as DuckDB's strptime
 * reads it (`%d/%m/%Y`). Checked here so that a bad format is a config error, not a failed query.
 */

/** The strptime specifiers DuckDB accepts (checked against DuckDB 1.5's strptime). */
const SPECIFIERS = new Set(['a', 'A', 'w', 'd', '-d', 'b', 'h', 'B', 'm', '-m', 'y', '-y', 'Y', 'H', '-H', 'I', '-I', 'p', 'M', '-M', 'S', '-S', 'g', 'f', 'n', 'z', 'Z', 'j', '-j', 'U', 'W', 'c', 'x', 'X', 'G', 'V', 'u', 'T', '%']);

/** Specifiers of a time of day, which a date has none of. */
const TIME_OF_DAY = new Set(['H', '-H', 'I', '-I', 'p', 'M', '-M', 'S', '-S', 'g', 'f', 'n', 'z', 'Z', 'c', 'X', 'T']);

/** The types a format applies to. */
export const FORMATTED_TYPES = ['date', 'timestamp', 'timestamptz'];

/** What is wrong with `format` for a column of `type`, or undefined when it can be used. */
export function timeFormatProblem(type: string, format: string): string | undefined {
  if (!FORMATTED_TYPES.includes(type)) return `applies only to ${FORMATTED_TYPES.join(', ')} columns, not ${type}`;
  const specifiers = [...format.matchAll(/%(-?.?)/g)].map((m) => m[1]);
  const unknown = specifiers.find((s) => !SPECIFIERS.has(s));
  if (unknown !== undefined) return `has %${unknown}, which is not a strptime specifier DuckDB knows (e.g. %Y-%m-%d %H:%M:%S)`;
  if (!specifiers.some((s) => s !== '%')) return 'has no specifier such as %Y';
  // Nanoseconds would be cut to DuckDB's microseconds, so two values differing there would compare equal.
  if (specifiers.includes('n')) return 'must not use %n: timestamps hold microseconds (%f); configure varchar to keep nanoseconds';
  if (type === 'date' && specifiers.some((s) => TIME_OF_DAY.has(s))) return 'must not read a time of day into a date';
  if (type === 'timestamp' && specifiers.some((s) => s === 'z' || s === 'Z')) return 'must not read a UTC offset or zone into a timestamp (use timestamptz)';
  return undefined;
}

/** Whether `zone` names a time zone Node's ICU knows: an IANA name or alias, in any case (europe/berlin). */
export function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * `zone` as the time zone database spells it when it is written in another case (europe/paris):
 * Node's ICU takes any case, Temporal's server only the database's.
 */
export function zoneSpelling(zone: string): string {
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
}

/**
 * What is wrong with `timeZone` for a column of `type`, or undefined when it can be used. DuckDB's
 * ICU knows the names Node's does (test/unit/strict-cast.test.ts); not offsets (+02:00), which a
 * newer Node takes.
 */
export function timeZoneProblem(type: string, timeZone: string): string | undefined {
  if (type !== 'timestamptz') return `applies only to timestamptz columns, not ${type} (a timestamp is a wall-clock time in no zone)`;
  if (!/^[A-Za-z]/.test(timeZone) || !knownTimeZone(timeZone)) return 'is not an IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC)';
  return undefined;
}

/** Go-style durations as Temporal takes them and the config writes them: `90s`, `15m`, `1h`, `1d`. */
export const DURATION = /^(\d+)(ms|s|m|h|d)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration in milliseconds; undefined for text that is not one. */
export function durationMs(duration: string): number | undefined {
  const [, count, unit] = DURATION.exec(duration) ?? [];
  return unit ? Number(count) * UNIT_MS[unit] : undefined;
}

/** Milliseconds as the config writes a duration, in the largest unit that divides them: 43200000 is `12h`. */
export function durationText(ms: number): string {
  const [unit, size] = Object.entries(UNIT_MS).reverse().find(([, size]) => ms % size === 0) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}

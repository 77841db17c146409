/** Go-style durations as Temporal takes them and the config writes them: `90s`, `15m`, `1h`, `1d`. */
export const DURATION = /^(\d+)(ms|s|m|h|d)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration in milliseconds; undefined for text that is not one. */
export function durationMs(duration: string): number | undefined {
  const [, count, unit] = DURATION.exec(duration) ?? [];
  return unit ? Number(count) * UNIT_MS[unit] : undefined;
}

/** A timeout from the environment, in whole seconds: `fallback` when unset; anything else refused, naming the variable. */
export function secondsSetting(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`${name} must be a whole number of seconds, not ${JSON.stringify(value)}`);
  return Number(value);
}

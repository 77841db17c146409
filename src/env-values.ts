/** Settings from the environment, each kind read one way for every variable: on/off flags, seconds. */
import { ConfigError } from './errors';

/**
 * true (`true`, `1`, `on`), false (`false`, `0`, `off`), in any case, or undefined when unset or
 * empty; anything else is refused, naming the variable, rather than taken for one of the two.
 */
export function envFlag(variable: string, value: string | undefined): boolean | undefined {
  const flag = (value ?? '').trim().toLowerCase();
  if (flag === '') return undefined;
  if (['1', 'true', 'on'].includes(flag)) return true;
  if (['0', 'false', 'off'].includes(flag)) return false;
  throw new ConfigError(`${variable} must be true or false, not ${JSON.stringify(value)} (1/0 and on/off are taken too)`);
}

/** A count from the environment, 1 or more (`what` it counts, for the refusal); undefined when unset or empty; anything else refused, naming the variable. */
export function countSetting(env: NodeJS.ProcessEnv, name: string, what: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^[1-9]\d*$/.test(value)) throw new ConfigError(`${name} must be a whole number of ${what}, not ${JSON.stringify(value)}`);
  return Number(value);
}

/** A timeout from the environment, in whole seconds: `fallback` when unset. */
export function secondsSetting(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return countSetting(env, name, 'seconds') ?? fallback;
}

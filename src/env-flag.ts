/** On/off settings from the environment, read one way for every variable. */
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

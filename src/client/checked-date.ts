/** A business date given on the command line, refused with the flag's name when malformed. */
import { ConfigError } from '../errors';
import { assertIsoDate } from '../warehouse/layout';

export function checkedDate(flag: string, date: string): string {
  try {
    assertIsoDate(date);
  } catch (err) {
    throw new ConfigError(`${flag}: ${(err as Error).message}`);
  }
  return date;
}

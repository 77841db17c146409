/** Strict parsing of numeric options: commander hands over strings, and Number('') or parseInt('1e6') would mislead. */
import { InvalidArgumentError } from 'commander';

export function integer(text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new InvalidArgumentError('not an integer.');
  return Number(text);
}

export function positiveInteger(text: string): number {
  const n = integer(text);
  if (n < 1) throw new InvalidArgumentError('must be at least 1.');
  return n;
}

export function fraction(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('not a number.');
  return n;
}

/** Strict parsing of options: commander hands over strings, and Number('') or parseInt('1e6') would mislead. */
import { InvalidArgumentError } from 'commander';
import type { DatasetConfig } from '../config/types';
import { ConfigError } from '../errors';

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

/** A --tables list, each name checked against the config before anything starts; undefined when the option is absent. */
export function tableList(config: DatasetConfig, option: string | undefined): string[] | undefined {
  if (option === undefined) return undefined;
  const tables = option.split(',').map((t) => t.trim()).filter(Boolean);
  const all = config.tables.map((t) => t.name).join(', ');
  // An empty list would mean every table to the workflow: a list that lost its names must not.
  if (tables.length === 0) throw new ConfigError(`--tables names no table (tables of ${config.dataset}: ${all}); leave it out for all of them`);
  const unknown = tables.filter((name) => !config.tables.some((t) => t.name === name));
  if (unknown.length > 0) throw new ConfigError(`--tables: dataset ${config.dataset} has no table(s) ${unknown.join(', ')} (tables: ${all})`);
  return tables;
}

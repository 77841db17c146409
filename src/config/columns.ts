/** How a configured column is found in its source and named in messages. */
import type { ColumnSpec } from './types';

type NamedColumn = Pick<ColumnSpec, 'name' | 'source'>;

/** The column's name in the source: `source` when it is read from a column named otherwise. */
export function sourceName(c: NamedColumn): string {
  return c.source ?? c.name;
}

/** A column as messages name it: its configured name, and the source column it is read from when that differs. */
export function columnLabel(c: NamedColumn): string {
  return c.source === undefined || c.source === c.name ? `"${c.name}"` : `"${c.name}" (source column "${c.source}")`;
}

/** The column read by its configured name, from a relation that holds it so (an extract's chunks). */
export function readByName<C extends NamedColumn>({ source: _source, ...c }: C): Omit<C, 'source'> {
  return c;
}

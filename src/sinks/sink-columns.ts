/** A sink table's columns against those cdcflow's own CREATE TABLE gives in the same database. */

export interface SinkColumn {
  /** The full type as the database names it (PostgreSQL: with its modifiers, e.g. `numeric(12,2)`). */
  type: string;
  /** NOT NULL without a default: an insert that leaves the column out fails. */
  required: boolean;
}

/** Column name → column, in the table's order. */
export type SinkColumns = Map<string, SinkColumn>;

/**
 * What keeps cdcflow's rows out of the table or changes them on the way in, one line each: a
 * column missing or of another type (text into an integer column, a decimal rounded into an
 * integer one, a longer text into varchar(10)), and an extra column an insert cannot leave out.
 * Other extra columns are left alone.
 */
export function columnProblems(table: string, expected: SinkColumns, found: SinkColumns): string[] {
  const problems: string[] = [];
  for (const [name, { type }] of expected) {
    const actual = found.get(name);
    if (actual?.type !== type) problems.push(`${table} column "${name}" ${actual ? `is ${actual.type}` : 'is missing'} (cdcflow writes ${type})`);
  }
  for (const [name, { required }] of found) {
    if (required && !expected.has(name)) problems.push(`${table} column "${name}" is NOT NULL without a default (cdcflow does not write it)`);
  }
  return problems;
}

/** Which column a delta's watermark belongs to, so that a value of one column never bounds another. */
import type { TableConfig } from '../config/types';
import type { PlannedCommit } from '../warehouse/commits';

/** The configured watermark column of the table's source (null: none). */
export function watermarkColumnOf(table: TableConfig): string | null {
  return table.source.format === 'postgres' ? table.source.watermark : null;
}

/**
 * The watermark a delta on `commit` reads above: none when no column is configured now (so none
 * is carried to a later commit either), or when it was taken of another column (the next delta
 * then reads everything, as a first run does). Commits of older versions do not name their
 * column and keep theirs.
 */
export function baseWatermark(table: TableConfig, commit: Pick<PlannedCommit, 'watermark' | 'watermarkColumn'>): string | null {
  const column = watermarkColumnOf(table);
  if (column === null) return null;
  const sameColumn = commit.watermarkColumn === null || column.toLowerCase() === commit.watermarkColumn.toLowerCase();
  return sameColumn ? commit.watermark : null;
}

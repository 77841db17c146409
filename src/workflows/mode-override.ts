/** A run's mode override (a schedule's, e.g. full weekly on delta tables) as it applies to one table. */
import type { Mode, TableConfig } from '../config/types';

/** A snapshot mode cannot read change records: change-record tables keep theirs. */
export function tableMode(table: Pick<TableConfig, 'mode'>, override: Mode | undefined): Mode {
  return override && table.mode !== 'changes' ? override : table.mode;
}

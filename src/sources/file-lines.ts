import { quoteLiteral } from '../engine/sql';

/**
 * SQL options for every read of a source file: a folder named like `key=value` on its path (the
 * run's own work folder `business_date=…/`, an export's `dt=…/`) adds no column to its rows.
 */
export const NO_FOLDER_COLUMNS = 'hive_partitioning = false';

/** A file's lines as text (column `text`), nothing parsed; callers number them WITH ORDINALITY. */
export function fileLinesSql(file: string): string {
  return (
    `read_csv(${quoteLiteral(file)}, columns = {'text': 'VARCHAR'}, header = false, auto_detect = false, ` +
    `delim = E'\\x01', quote = '', escape = '', comment = '', strict_mode = false, ${NO_FOLDER_COLUMNS})`
  );
}

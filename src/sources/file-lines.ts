import { quoteIdent, quoteLiteral } from '../engine/sql';

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

/**
 * SQL for the line breaks inside a CSV row's fields (columns read as text, optionally qualified
 * by `alias`): a quoted field spanning lines moves every later row down by as many lines.
 */
export function lineBreaksInRowSql(columns: readonly string[], alias?: string): string {
  const ref = (c: string) => (alias ? `${alias}.${quoteIdent(c)}` : quoteIdent(c));
  return columns.map((c) => `coalesce(length(${ref(c)}) - length(replace(${ref(c)}, chr(10), '')), 0)`).join(' + ') || '0';
}

/** SQL for the line breaks inside the fields of the rows before this one, rows numbered by `row`. */
export function lineBreaksBeforeSql(columns: readonly string[], row: string, alias?: string): string {
  return `coalesce(sum(${lineBreaksInRowSql(columns, alias)}) OVER (ORDER BY ${row} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)`;
}

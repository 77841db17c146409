/**
 * Hints for CSV files written in another exporter's dialect, added to the error that refuses
 * them: what to configure, or that nothing can be, instead of a bare refusal.
 */
import type { ColumnSpec, CsvOptions, FileTableConfig, TableConfig } from '../config/types';

/** MySQL's NULL (`SELECT … INTO OUTFILE`, mysqldump). */
const MYSQL_NULL = '\\N';
/** A number written with a decimal comma (European locales, Excel). */
const DECIMAL_COMMA = /^\s*[+-]?[0-9]*,[0-9]+\s*$/;
/** A whole number with a fraction of zeros (`3.0`). */
const WHOLE_FLOAT = /^\s*[+-]?[0-9]+\.0+\s*$/;
/** How an ISO 8601 date or timestamp starts. */
const ISO_DATE_START = /^\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/;

/** What to set for MySQL's \N: nullString, unless the escape is in it, which DuckDB cannot read. */
function mysqlNullHint({ quote, escape = quote, nullString }: CsvOptions): string {
  // Set already: this \N was quoted, so it is text.
  if (nullString === MYSQL_NULL) return '';
  if (escape !== quote && MYSQL_NULL.includes(escape)) return ` (MySQL writes NULL as \\N, which cannot be read as NULL beside csv.escape ${JSON.stringify(escape)})`;
  return ' (MySQL writes NULL as \\N: set csv.nullString: "\\\\N")';
}

/** Why a CSV value did not convert, when an exporter's dialect explains it; '' otherwise. */
export function csvCastHint(table: FileTableConfig, column: Pick<ColumnSpec, 'type' | 'format' | 'sensitive'>, value: string | null): string {
  if (table.source.format !== 'csv' || column.sensitive || value === null) return '';
  if (value === MYSQL_NULL) return mysqlNullHint(table.source.csv);
  const numeric = column.type === 'double' || column.type.startsWith('decimal');
  if (numeric && DECIMAL_COMMA.test(value)) return ' (a decimal comma: numbers are read with a decimal point only; export them with one, or read the column as varchar)';
  const integer = column.type === 'integer' || column.type === 'bigint';
  if (integer && WHOLE_FLOAT.test(value)) return ' (a whole number written as a float, as pandas writes an integer column with missing values; export it as an integer, e.g. pandas Int64)';
  const temporal = column.type === 'date' || column.type.startsWith('timestamp');
  if (temporal && column.format === undefined && !ISO_DATE_START.test(value)) return ' (not ISO 8601: give the column a format in strptime notation, e.g. format: "%d.%m.%Y")';
  return '';
}

/** Why DuckDB could not read a CSV line, when an exporter's dialect explains it; '' otherwise. */
export function csvReadHint(table: TableConfig, line: string, reason: string): string {
  if (table.source.format !== 'csv') return '';
  const { quote, escape = quote } = table.source.csv;
  if (escape === quote && /unterminated quote/i.test(reason) && line.includes(`\\${quote}`)) {
    return ` (a backslash before a quote, as MySQL writes it: set csv.escape: "\\\\")`;
  }
  return '';
}

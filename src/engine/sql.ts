/** Quoting for everything from config that ends up in SQL text. */

/** A DuckDB identifier: always quoted, embedded quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A DuckDB string literal (paths, dates, options): embedded quotes doubled. */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new Error('NUL character in SQL literal');
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A PostgreSQL dollar-quoted string (`$q$…$q$`, no escaping inside): the tag numbered until the
 * text cannot end the string early.
 */
export function dollarQuoted(text: string): string {
  let tag = '$q$';
  for (let n = 1; `${text}${tag}`.indexOf(tag) !== text.length; n++) tag = `$q${n}$`;
  return `${tag}${text}${tag}`;
}

/** SQL text of a row's key for messages: `(id=7, region=EU)`, its columns read from `alias` when given. */
export function keyTextSql(keys: readonly { name: string }[], alias?: string): string {
  const ref = (name: string) => `${alias ? `${alias}.` : ''}${quoteIdent(name)}`;
  return `'(' || concat_ws(', ', ${keys.map((k) => `${quoteLiteral(`${k.name}=`)} || CAST(${ref(k.name)} AS VARCHAR)`).join(', ')}) || ')'`;
}

/** A DATE literal from a validated YYYY-MM-DD string. */
export function dateLiteral(isoDate: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDate)) throw new Error(`not a YYYY-MM-DD date: ${isoDate}`);
  return `DATE ${quoteLiteral(isoDate)}`;
}

/** A list of file paths as a DuckDB list literal, for read_csv/read_parquet/read_json. */
export function fileListLiteral(files: readonly string[]): string {
  return `[${files.map(quoteLiteral).join(', ')}]`;
}

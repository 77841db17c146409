/**
 * The checks a batch of events must pass before anything is applied, each naming the first
 * offending event by file and line: JSON that does not parse, a Debezium truncate, an operation
 * no list names, a Debezium event without its row image, a missing key or ordering value, and
 * two different events of one key with equal ordering values.
 */
import type { FileTableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import { DataError } from '../errors';
import { conflictingEventsSql, EVENT, firstEventSql, orderColumn, type ChangeTable } from './event-sql';

export interface EventPlace {
  file: string;
  line: string | number;
  value: string | null;
}

type Table = FileTableConfig & ChangeTable;

/** Parquet has rows, the text formats lines (JSON: one event per line). */
function where(table: Table, place: Pick<EventPlace, 'file' | 'line'>) {
  const unit = table.source.format === 'parquet' ? 'row' : 'line';
  return { unit, context: { dataset: table.dataset, table: table.name, file: place.file, [unit]: Number(place.line) } };
}

/** The text of one line of a file (failure path only), cut to a readable length. */
async function lineText(session: Session, file: string, line: number): Promise<string> {
  const lines =
    `read_csv(${quoteLiteral(file)}, columns = {'text': 'VARCHAR'}, header = false, auto_detect = false, ` +
    `delim = E'\\x01', quote = '', escape = '', comment = '', strict_mode = false)`;
  const [hit] = await session.rows<{ text: string | null }>(`SELECT text FROM ${lines} WITH ORDINALITY AS l(text, n) WHERE n = ${Math.trunc(line)}`);
  const text = hit?.text ?? '';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

interface Check {
  condition: string;
  value?: string;
  field: string;
  message: (value: string | null) => string;
  /** The line's own text belongs in the message. */
  quoteLine?: boolean;
}

function checks(table: Table): Check[] {
  const debezium = table.source.format === 'debezium';
  const op = table.changes.operation;
  const opField = debezium ? 'op' : op.column;
  const expected = `expected one of ${[...op.insert, ...op.update, ...op.delete].join(', ')}${debezium ? ' (Debezium: c, u, d, r)' : ''}`;
  return [
    ...(debezium
      ? [
          { condition: `NOT ${EVENT.valid}`, field: 'op', message: () => 'is not valid JSON', quoteLine: true },
          {
            condition: `${EVENT.kind} = 'T'`,
            field: 'op',
            message: () =>
              'is a truncate event (op "t"); cdcflow does not apply truncates: run the table in full mode with a snapshot, or remove the event',
          },
        ]
      : []),
    { condition: `${EVENT.op} IS NULL`, field: opField, message: () => `has no operation (field "${opField}")` },
    {
      condition: `${EVENT.kind} IS NULL`,
      value: EVENT.op,
      field: opField,
      message: (v) => `has an unknown operation ${JSON.stringify(v)} in field "${opField}"; ${expected}`,
    },
    ...(debezium
      ? [
          {
            condition: `NOT ${EVENT.present}`,
            value: EVENT.op,
            field: 'after',
            message: (v: string | null) => `is a Debezium event with op ${JSON.stringify(v)} and no "${v === 'd' ? 'before' : 'after'}" row`,
          },
        ]
      : []),
    ...table.keys.map((k) => ({ condition: `${quoteIdent(k.name)} IS NULL`, field: k.name, message: () => `has no value for key field "${k.name}"` })),
    ...table.changes.orderBy.map((o, i) => ({
      condition: `${orderColumn(i)} IS NULL`,
      field: o.name,
      message: () => `has no ordering value in field "${o.name}"`,
    })),
  ];
}

/** The first event that breaks the contract, as a DataError; undefined when every event is good. */
export async function findBadEvent(session: Session, table: Table, eventsPath: string): Promise<DataError | undefined> {
  for (const check of checks(table)) {
    const [hit] = await session.rows<EventPlace>(firstEventSql(eventsPath, check.condition, check.value));
    if (!hit) continue;
    const { unit, context } = where(table, hit);
    const quoted = check.quoteLine ? `: ${JSON.stringify(await lineText(session, hit.file, Number(hit.line)))}` : '';
    return new DataError(`event at ${unit} ${hit.line} ${check.message(hit.value)}${quoted}`, {
      ...context,
      column: check.field,
      ...(hit.value !== null ? { value: hit.value } : {}),
    });
  }
  return undefined;
}

/**
 * Two different events of one key with equal ordering values: neither is newer, so the batch is
 * refused (not for Debezium, where the later position in the batch wins).
 */
export async function findConflict(session: Session, table: Table, eventsPath: string): Promise<DataError | undefined> {
  if (table.changes.positionBreaksTies) return undefined;
  const rows = await session.rows<{ file: string; line: string | number; hash: string; key_text: string }>(conflictingEventsSql(table, eventsPath));
  const [first] = rows;
  const second = rows.find((r) => r.hash !== first?.hash);
  if (!first || !second) return undefined;
  const { unit, context } = where(table, second);
  const order = table.changes.orderBy.map((o) => o.name).join(', ');
  return new DataError(
    `key ${first.key_text} has two different events with equal ordering values (${order}): ${first.file} ${unit} ${first.line} ` +
      `and ${second.file} ${unit} ${second.line}; which one is newer is unknown`,
    { ...context, column: order },
  );
}

/**
 * The checks a batch of events must pass before anything is applied, each naming the first
 * offending event by file and line: JSON that does not parse, a Debezium truncate, an operation
 * no list names, a Debezium event without its row image, a field missing from it or holding the
 * unavailable-value placeholder or a JSON number a double may not hold, a missing key or ordering value, and
 * two different events of one key with equal ordering values.
 */
import type { FileTableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { quoteIdent } from '../engine/sql';
import { DataError } from '../errors';
import { fileLinesSql } from '../sources/file-lines';
import { quotedLine } from '../warehouse/sensitive';
import type { EventCounts } from './counts';
import {
  type ChangeTable,
  conflictingEventsSql,
  DEBEZIUM_UNAVAILABLE_VALUE,
  duplicateEventsSql,
  EVENT,
  type EventCheck,
  type EventFile,
  exactDuplicateEventsSql,
  firstMatchingEventSql,
  orderColumn,
  scanEventsSql,
} from './event-sql';

interface EventPlace {
  file: string;
  line: string | number;
  value: string | null;
}

type Table = FileTableConfig & ChangeTable;

/** Parquet has rows, the text formats lines (JSON: one event per line). */
export function eventPlace(table: Table, place: Pick<EventPlace, 'file' | 'line'>) {
  const unit = table.source.format === 'parquet' ? 'row' : 'line';
  return { unit, context: { dataset: table.dataset, table: table.name, file: place.file, [unit]: Number(place.line) } };
}

/** The file read for the one events name (S3: its local copy). */
function pathOf(files: readonly EventFile[], name: string): string {
  return files.find((f) => f.name === name)?.path ?? name;
}

/** The text of one line of a file (failure path only), cut to a readable length. */
async function lineText(session: Session, file: string, line: number): Promise<string> {
  const [hit] = await session.rows<{ text: string | null }>(`SELECT text FROM ${fileLinesSql(file)} WITH ORDINALITY AS l(text, n) WHERE n = ${Math.trunc(line)}`);
  return hit?.text ?? '';
}

interface Check extends EventCheck {
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
          {
            condition: `${EVENT.absent} IS NOT NULL`,
            value: EVENT.absent,
            field: 'after',
            message: (v: string | null) =>
              `has no field ${JSON.stringify(v)} in its "after" row; every configured column must be in it (a NULL as JSON null), named exactly as the source names it`,
          },
          {
            condition: `${EVENT.unavailable} IS NOT NULL`,
            value: EVENT.unavailable,
            field: 'after',
            message: (v: string | null) =>
              `has Debezium's placeholder "${DEBEZIUM_UNAVAILABLE_VALUE}" for field ${JSON.stringify(v)}: the connector did not have the value ` +
              `(an unchanged TOASTed column under REPLICA IDENTITY DEFAULT); set REPLICA IDENTITY FULL on the source table, or remove the event`,
          },
          {
            condition: `${EVENT.rounded} IS NOT NULL`,
            value: EVENT.rounded,
            field: 'after',
            message: (v: string | null) =>
              `has a JSON number in field ${JSON.stringify(v)} that is read as a double, which holds 15 significant digits exactly, and this one has more: ` +
              `send it as a JSON string (decimal.handling.mode=string), which is read as text and cast exactly`,
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

/**
 * Checks the batch's events and counts them: the first event that breaks the contract (in the
 * order of the checks) or a conflict is a DataError; otherwise the events per kind and duplicates.
 * `events` is the relation of the events; `located` the same events with file and line, read
 * only to name the offending event when a check fails.
 */
export async function checkEvents(session: Session, table: Table, events: string, located: string, files: readonly EventFile[]): Promise<EventCounts> {
  const list = checks(table);
  const [scan] = await session.rows<Record<string, string | number>>(scanEventsSql(events, list));
  for (const [i, check] of list.entries()) {
    if (Number(scan[`check_${i}`]) === 0) continue;
    const [hit] = await session.rows<EventPlace>(firstMatchingEventSql(located, check));
    if (!hit) throw new Error(`check ${i} matched ${scan[`check_${i}`]} events of ${table.dataset}.${table.name}, locating found none`);
    const { unit, context } = eventPlace(table, hit);
    const quoted = check.quoteLine ? `: ${quotedLine(table, await lineText(session, pathOf(files, hit.file), Number(hit.line)))}` : '';
    throw new DataError(`event at ${unit} ${hit.line} ${check.message(hit.value)}${quoted}`, {
      ...context,
      column: check.field,
      ...(hit.value !== null ? { value: hit.value } : {}),
    });
  }
  let [{ duplicates, conflicts }] = await session.rows<{ duplicates: string | number; conflicts: string | number }>(duplicateEventsSql(table, events));
  if (Number(conflicts) > 0) {
    if (!table.changes.positionBreaksTies) throw await describeConflict(session, table, located);
    [{ duplicates }] = await session.rows<{ duplicates: string | number }>(exactDuplicateEventsSql(table, events));
  }
  const n = (k: string) => Number(scan[k]);
  return { events: n('events'), inserts: n('inserts'), updates: n('updates'), deletes: n('deletes'), duplicates: Number(duplicates) };
}

/**
 * Two different events of one key with equal ordering values: neither is newer, so the batch is
 * refused (not for Debezium, where the later position in the batch wins).
 */
async function describeConflict(session: Session, table: Table, located: string): Promise<DataError> {
  const rows = await session.rows<{ file: string; line: string | number; content: string; key_text: string }>(conflictingEventsSql(table, located));
  const [first] = rows;
  const second = rows.find((r) => r.content !== first?.content);
  if (!first || !second) return new DataError('two different events of one key have equal ordering values', { dataset: table.dataset, table: table.name });
  const { unit, context } = eventPlace(table, second);
  const order = table.changes.orderBy.map((o) => o.name).join(', ');
  return new DataError(
    `key ${first.key_text} has two different events with equal ordering values (${order}): ${first.file} ${unit} ${first.line} ` +
      `and ${second.file} ${unit} ${second.line}; which one is newer is unknown`,
    { ...context, column: order },
  );
}

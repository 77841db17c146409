/**
 * The diff of a change-record table. The batch's events are compacted and joined with the
 * ordering state once: the newest event per key if newer than what the state holds for it (the
 * effective events). An event as old as the state's (a tie) is the committed event again, or a
 * conflict, refused. From the effective events come the next ordering state (written beside the
 * diff's other files) and the diff itself.
 */
import type { BaseRef } from '../activities/types';
import type { TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { baseRelationSql } from '../engine/stage-sql';
import { DataError } from '../errors';
import {
  type ChangeTable,
  changeDiffSql,
  effectiveEventsSql,
  nextOrderStateSql,
  orderStateRelationSql,
  staleEventsSql,
  stateConflictSql,
} from './event-sql';
import { asChangeTable } from './hash-events';

export async function prepareChangeDiff(
  session: Session,
  table: TableConfig,
  businessDate: string,
  base: BaseRef | null,
  paths: { hashed: string; base: string | null; order: string },
): Promise<{ diff: string; stale: number }> {
  const t = asChangeTable(table);
  const orderState = orderStateRelationSql(t, base?.orderFiles ?? []);
  const baseState = baseRelationSql(t, paths.hashed, paths.base);
  await refuseStateConflict(session, t, stateConflictSql(t, paths.hashed, orderState, baseState));
  await session.run(`CREATE TEMP TABLE effective AS ${effectiveEventsSql(t, paths.hashed, orderState)}`);
  const effective = 'effective';
  await session.run(nextOrderStateSql(t, businessDate, { effective, orderState, out: paths.order }));
  const [{ stale }] = await session.rows<{ stale: string | number }>(staleEventsSql(t, paths.hashed, orderState));
  return { diff: changeDiffSql(t, businessDate, { effective, base: baseState }), stale: Number(stale) };
}

const KIND_NAMES: Record<string, string> = { I: 'an insert', U: 'an update', D: 'a delete' };

/**
 * An event whose ordering values equal those of the event the state reflects, but which is not
 * that event, fails the table: applying it or dropping it as stale would each be a guess.
 */
async function refuseStateConflict(session: Session, t: TableConfig & ChangeTable, conflictSql: string): Promise<void> {
  const [hit] = await session.rows<{ key_text: string; order_values: string; kind: string; state: string; file?: string; line?: string | number }>(conflictSql);
  if (!hit) return;
  const at = hit.file === undefined ? '' : ` (${hit.file} line ${hit.line})`;
  const order = t.changes.orderBy.map((o) => o.name).join(', ');
  const committed = hit.state === 'deleted' ? 'deleted the key' : 'set other values';
  throw new DataError(
    `key ${hit.key_text}: an event of the batch${at} is ${KIND_NAMES[hit.kind] ?? hit.kind} ` +
      `with the same ordering values (${order} = ${hit.order_values}) as the committed event of the key, which ${committed}; ` +
      `which one is newer is unknown. Remove the event from the batch if it is an old one delivered again, or order by a field that differs for every change`,
    { dataset: t.dataset, table: t.name, column: order, ...(hit.file === undefined ? {} : { file: hit.file, line: Number(hit.line) }) },
  );
}

/**
 * The diff of a change-record table. The batch's events are compacted and joined with the
 * ordering state once, into the effective events (the newest per key, if newer than what the
 * state holds for it); from those come the next ordering state (written beside the diff's other
 * files) and the diff itself.
 */
import type { BaseRef } from '../activities/types';
import type { TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { baseRelationSql } from '../engine/stage-sql';
import { changeDiffSql, effectiveEventsSql, nextOrderStateSql, orderStateRelationSql, staleEventsSql } from './event-sql';
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
  await session.run(`CREATE TEMP TABLE effective AS ${effectiveEventsSql(t, paths.hashed, orderState)}`);
  await session.run(nextOrderStateSql(t, businessDate, { effective: 'effective', orderState, out: paths.order }));
  const [{ stale }] = await session.rows<{ stale: string | number }>(staleEventsSql(t, paths.hashed, orderState));
  return { diff: changeDiffSql(t, businessDate, { effective: 'effective', base: baseRelationSql(t, paths.hashed, paths.base) }), stale: Number(stale) };
}

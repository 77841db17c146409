/** The diff stages of a change-record table: the SQL each stage runs instead of the snapshot diff. */
import type { TableConfig } from '../config/types';
import type { BaseRef } from '../activities/types';
import { asChangeTable } from './hash-events';
import { changeDeletesSql, changeInsertsSql, changeUpdatesSql, orderStateRelationSql } from './event-sql';

const STAGES = { inserts: changeInsertsSql, deletes: changeDeletesSql, updates: changeUpdatesSql };

export function changeDiffSql(
  stage: keyof typeof STAGES,
  table: TableConfig,
  businessDate: string,
  base: BaseRef | null,
  paths: { hashed: string; base: string | null; out: string },
): string {
  const t = asChangeTable(table);
  return STAGES[stage](t, businessDate, { ...paths, orderState: orderStateRelationSql(t, base?.orderFiles ?? []) });
}

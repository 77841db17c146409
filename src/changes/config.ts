/**
 * The config of change-record tables (`mode: changes`): what the file may say, checked with the
 * rest of the config, and what a table resolves to (defaults applied).
 */
import type { z } from 'zod';
import type { ChangesSpec, ColumnSpec, Mode } from '../config/types';

/** Event types recognised without configuration (compared trimmed and case-insensitively). */
export const DEFAULT_OPERATION_VALUES = {
  insert: ['I', 'insert', 'c', 'r'],
  update: ['U', 'update', 'u'],
  delete: ['D', 'delete', 'd'],
} as const;

const DEFAULT_OPERATION_COLUMN = 'op';

/** Debezium's PostgreSQL events are ordered by their log position (then their place in the batch). */
const DEBEZIUM_DEFAULT_ORDER: ColumnSpec[] = [{ name: 'source.lsn', type: 'bigint' }];

interface ChangeFields {
  name: string;
  mode?: Mode;
  keys: ColumnSpec[];
  columns: ColumnSpec[];
  operation?: { column: string; insert?: string[]; update?: string[]; delete?: string[] };
  orderBy?: (string | ColumnSpec)[];
  tombstoneRetentionDays?: number;
  source: { format: string; missingColumns?: string };
}

const KINDS = ['insert', 'update', 'delete'] as const;

/** Problems of the change-record settings of every table, given the dataset's default mode. */
export function checkChangeTables(d: { mode: Mode; tables: ChangeFields[] }, ctx: z.RefinementCtx): void {
  d.tables.forEach((t, i) => {
    const at = (...path: (string | number)[]) => ['tables', i, ...path];
    const issue = (message: string, ...path: (string | number)[]) => ctx.addIssue({ code: 'custom', path: at(...path), message });
    const mode = t.mode ?? d.mode;
    const debezium = t.source.format === 'debezium';
    if (mode !== 'changes') {
      for (const field of ['operation', 'orderBy', 'tombstoneRetentionDays'] as const) {
        if (t[field] !== undefined) issue(`is for change-record tables only (mode: changes), this table is mode: ${mode}`, field);
      }
      if (debezium) issue('Debezium change events need mode: changes', 'source', 'format');
      return;
    }
    if (t.source.format === 'postgres') issue('mode: changes reads change records from files (csv, parquet, json, debezium)', 'source', 'format');
    checkReadAsNamed(t, issue);
    if (debezium && t.operation) issue('Debezium events carry their type in "op"; remove operation', 'operation');
    if (!debezium && !t.orderBy) issue('mode: changes needs orderBy: the column(s) that say which event is newer', 'orderBy');
    const columns = new Map([...t.keys, ...t.columns].map((c) => [c.name.toLowerCase(), c]));
    t.orderBy?.forEach((o, j) => {
      if (typeof o === 'string' && !debezium && !columns.has(o.toLowerCase())) {
        issue(`"${o}" is not a configured column; name an event-only column as { name, type }`, 'orderBy', j);
      }
    });
    const seen = new Map<string, string>();
    for (const kind of KINDS) {
      (t.operation?.[kind] ?? []).forEach((value, j) => {
        const folded = value.trim().toLowerCase();
        const other = seen.get(folded);
        if (other && other !== kind) issue(`"${value}" already means ${other}`, 'operation', kind, j);
        seen.set(folded, kind);
      });
    }
  });
}

/**
 * Change records are read by the names the config gives (events, ordering and tombstones alike):
 * a column read from a source column named otherwise, or a field a file may lack, is refused.
 */
function checkReadAsNamed(t: ChangeFields, issue: (message: string, ...path: (string | number)[]) => void): void {
  const renamed = 'is not supported for change-record tables (mode: changes): name the column as the files do';
  for (const list of ['keys', 'columns', 'orderBy'] as const) {
    (t[list] ?? []).forEach((c, j) => {
      if (typeof c !== 'string' && c.source !== undefined) issue(renamed, list, j, 'source');
    });
  }
  if (t.source.missingColumns === 'null') {
    issue('null is not supported for change-record tables (mode: changes): every event must carry every configured column', 'source', 'missingColumns');
  }
}

/** The ordering copy of the configured column `name` (absent: one of the Debezium defaults, numbers). */
function orderingCopy(name: string, column: ColumnSpec | undefined): ColumnSpec {
  return { name, type: column?.type ?? 'bigint', format: column?.format, timeZone: column?.timeZone };
}

/** What a change-record table adds to its resolved config: `changes`, absent for the snapshot modes. */
export function resolveChanges(t: ChangeFields, mode: Mode): { changes?: ChangesSpec } {
  if (mode !== 'changes') return {};
  const debezium = t.source.format === 'debezium';
  const columns = new Map([...t.keys, ...t.columns].map((c) => [c.name.toLowerCase(), c]));
  const orderBy = (t.orderBy ?? DEBEZIUM_DEFAULT_ORDER).map((o) =>
    // A configured column's ordering copy is read as the column is: its type, its format for text, its time zone.
    typeof o === 'string' ? orderingCopy(o, columns.get(o.toLowerCase())) : o,
  );
  const changes: ChangesSpec = {
    operation: {
      column: t.operation?.column ?? DEFAULT_OPERATION_COLUMN,
      insert: t.operation?.insert ?? [...DEFAULT_OPERATION_VALUES.insert],
      update: t.operation?.update ?? [...DEFAULT_OPERATION_VALUES.update],
      delete: t.operation?.delete ?? [...DEFAULT_OPERATION_VALUES.delete],
    },
    orderBy,
    positionBreaksTies: debezium,
    tombstoneRetentionDays: t.tombstoneRetentionDays ?? null,
  };
  return { changes };
}

/**
 * A table whose keys, columns, types or ignore list changed since its latest commit is refused:
 * the stored hashes and the catalog's tables are those of the committed shape. The refusal names
 * what changed, as far as the catalog tells: the state table's columns, and whether an ordering
 * state exists (change records); keys and the ignore list are not in them.
 */
import type { ColumnSpec, TableConfig } from '../config/types';
import { StateError } from '../errors';
import { hashShape } from './fingerprint';

/** A column of the committed state table, as DuckDB describes it. */
export interface CommittedColumn {
  name: string;
  type: string;
}

/** What the catalog tells of the committed shape: the state table's columns, and whether it holds change records. */
export interface CommittedShape {
  columns: readonly CommittedColumn[];
  changeRecords: boolean;
}

/** Columns every state table has beside the configured ones. */
const BOOKKEEPING_COLUMNS = new Set(['operation', 'eff_start_date', 'key_hash', 'nonkey_hash']);

/** The configured type as DuckDB names it in a table's description. */
function describedType(type: string): string {
  return type === 'timestamptz' ? 'TIMESTAMP WITH TIME ZONE' : type.toUpperCase();
}

/** What differs between the configured columns and the committed ones, e.g. `column "qty" removed`. */
export function columnChanges(configured: readonly ColumnSpec[], committed: readonly CommittedColumn[]): string[] {
  const stored = committed.filter((c) => !BOOKKEEPING_COLUMNS.has(c.name.toLowerCase()));
  const find = <C extends { name: string }>(cs: readonly C[], name: string) => cs.find((c) => c.name.toLowerCase() === name.toLowerCase());
  const changes = [
    ...configured.filter((c) => !find(stored, c.name)).map((c) => `column "${c.name}" added (${c.type})`),
    ...stored.filter((c) => !find(configured, c.name)).map((c) => `column "${c.name}" removed`),
    ...configured.flatMap((c) => {
      const was = find(stored, c.name);
      if (!was) return [];
      const respelled = was.name === c.name ? [] : [`column "${was.name}" is now spelled "${c.name}"`];
      return was.type === describedType(c.type) ? respelled : [...respelled, `column "${c.name}" is now ${c.type} (committed as ${was.type.toLowerCase()})`];
    }),
  ];
  if (changes.length > 0) return changes;
  const order = (cs: readonly { name: string }[]) => cs.map((c) => c.name.toLowerCase()).join('\0');
  return order(configured) === order(stored) ? [] : ['the columns are in another order (values are hashed in config order)'];
}

/**
 * The non-key columns a config appends to the committed shape: absent from the committed state,
 * after every column it has, and nothing else changed (the config without them has the committed
 * shape). Undefined for any other change, and for change-record tables, whose ordering state and
 * events keep the committed columns.
 */
export function appendedColumns(
  table: TableConfig,
  committed: { columns: readonly Pick<CommittedColumn, 'name'>[]; changeRecords: boolean },
  committedShape: string,
): ColumnSpec[] | undefined {
  if (table.mode === 'changes' || committed.changeRecords) return undefined;
  const stored = new Set(committed.columns.map((c) => c.name.toLowerCase()));
  const firstNew = table.columns.findIndex((c) => !stored.has(c.name.toLowerCase()));
  if (firstNew < 0) return undefined;
  const appended = table.columns.slice(firstNew);
  if (appended.some((c) => stored.has(c.name.toLowerCase()))) return undefined;
  const added = new Set(appended.map((c) => c.name.toLowerCase()));
  const before = { ...table, columns: table.columns.slice(0, firstNew), ignore: table.ignore.filter((n) => !added.has(n.toLowerCase())) };
  return hashShape(before) === committedShape ? appended : undefined;
}

/** Everything that differs from the committed shape, as far as the catalog tells. */
function shapeChanges(table: TableConfig, committed: CommittedShape): string[] {
  const changeRecords = table.mode === 'changes';
  if (changeRecords !== committed.changeRecords) {
    return [changeRecords ? 'mode: changes, where snapshots (full or delta) were committed' : `mode: ${table.mode}, where change records (mode: changes) were committed`];
  }
  const changes = columnChanges([...table.keys, ...table.columns], committed.columns);
  return changes.length > 0 ? changes : [`the keys or the ignore list${changeRecords ? ' or the orderBy types' : ''} changed`];
}

/** The refusal of a run whose table shape differs from the one committed on `latestDate`. */
export function shapeChangedError(table: TableConfig, latestDate: string, committed: CommittedShape, context: Record<string, string>): StateError {
  return new StateError(
    `the table's config differs from the one its commits were made with (latest ${latestDate}): ${shapeChanges(table, committed).join(', ')}. ` +
      'The stored hashes and the catalog tables keep the committed shape (of changes, only non-key columns appended after the others ' +
      'are taken on), so nothing was run. ' +
      'Restore the table\'s config as committed (keys, columns, types, ignore list, mode), or run the table with the new config from its first date into a new warehouse' +
      (table.sinks?.length ? " (and new sink tables: drop the sinks' tables of the table or give the sinks another schema)" : ''),
    { ...context, latestCommitted: latestDate },
  );
}

/** Naming what changed in a table's config against the columns of its committed state table. */
import { hashShape } from '../../src/activities/fingerprint';
import { appendedColumns, columnChanges, shapeChangedError } from '../../src/activities/shape-change';
import type { TableConfig } from '../../src/config/types';
import { Engine } from '../../src/engine/duckdb';
import { stateColumnsDdl } from '../../src/warehouse/commit';

const TYPES = ['varchar', 'integer', 'bigint', 'double', 'decimal(12,2)', 'boolean', 'date', 'timestamp', 'timestamptz'];
const keys = [{ name: 'Id', type: 'bigint' }];
const columns = TYPES.map((type, i) => ({ name: `c${i}`, type }));

/** The columns of a state table created as a commit creates it, described by DuckDB. */
async function committed(t: { keys: typeof keys; columns: typeof columns }) {
  const engine = await Engine.create();
  try {
    return await engine.withSession(async (s) => {
      await s.run(`CREATE TABLE state (${stateColumnsDdl(t)})`);
      const rows = await s.rows<{ column_name: string; column_type: string }>('DESCRIBE state');
      return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
    });
  } finally {
    await engine.close();
  }
}

describe('columnChanges', () => {
  it('finds nothing for the committed config, whatever the types', async () => {
    expect(columnChanges([...keys, ...columns], await committed({ keys, columns }))).toEqual([]);
  });

  it('names added, removed, retyped and respelled columns (names match in any case), else a new order', async () => {
    const stored = await committed({ keys, columns: columns.slice(0, 3) });
    const [c0, c1, c2] = columns;
    expect(columnChanges([...keys, c0, { name: 'c1', type: 'varchar' }, { name: 'new', type: 'date' }], stored)).toEqual([
      'column "new" added (date)',
      'column "c2" removed',
      'column "c1" is now varchar (committed as integer)',
    ]);
    expect(columnChanges([...keys, c2, c0, c1], stored)).toEqual(['the columns are in another order (values are hashed in config order)']);
    expect(columnChanges([...keys, { name: 'C0', type: c0.type }, c1, c2], stored)).toEqual(['column "c0" is now spelled "C0"']);
  });
});

describe('shapeChangedError', () => {
  const table = (over: Partial<TableConfig>) => ({ mode: 'full', keys, columns, ...over }) as TableConfig;

  it('names a mode changed to or from change records, and the sinks\' tables when the table has sinks', async () => {
    const stored = await committed({ keys, columns });
    const context = { dataset: 'd', table: 't' };
    const toChanges = shapeChangedError(table({ mode: 'changes' }), '2024-01-02', { columns: stored, changeRecords: false }, context);
    expect(toChanges.message).toContain('(latest 2024-01-02): mode: changes, where snapshots (full or delta) were committed.');
    expect(toChanges.message).not.toContain('sink');
    const withSink = table({ mode: 'delta', sinks: [{ type: 'duckdb', name: 'duckdb', path: '/x.duckdb', schema: 'd' }] });
    const fromChanges = shapeChangedError(withSink, '2024-01-02', { columns: stored, changeRecords: true }, context);
    expect(fromChanges.message).toContain(': mode: delta, where change records (mode: changes) were committed.');
    expect(fromChanges.message).toMatch(/into a new warehouse \(and new sink tables: drop the sinks' tables of the table or give the sinks another schema\)$/);
    expect(fromChanges.context).toEqual({ ...context, latestCommitted: '2024-01-02' });
  });
});

describe('appendedColumns', () => {
  const table = (over: Partial<TableConfig>) => ({ mode: 'full', keys, columns: columns.slice(0, 3), ignore: [], ...over }) as TableConfig;
  const [c0, c1, c2, c3, c4] = columns;

  it('takes non-key columns appended after the committed ones, also ignored or sensitive ones', async () => {
    const before = table({ ignore: ['c1'] });
    const stored = { columns: await committed({ keys, columns: [c0, c1, c2] }), changeRecords: false };
    const after = table({ columns: [c0, c1, c2, c3, { ...c4, sensitive: true }], ignore: ['c1', 'c4'] });
    expect(appendedColumns(after, stored, hashShape(before))?.map((c) => c.name)).toEqual(['c3', 'c4']);
    expect(appendedColumns(table({ mode: 'delta', columns: [c0, c1, c2, c3], ignore: ['c1'] }), stored, hashShape(before))?.map((c) => c.name)).toEqual(['c3']);
  });

  it('refuses anything else: a column between committed ones, another change besides, change records, nothing appended', async () => {
    const before = table({});
    const stored = { columns: await committed({ keys, columns: [c0, c1, c2] }), changeRecords: false };
    expect(appendedColumns(table({ columns: [c0, c3, c1, c2] }), stored, hashShape(before))).toBeUndefined();
    expect(appendedColumns(table({ columns: [c0, c1, c2, c3], ignore: ['c2'] }), stored, hashShape(before))).toBeUndefined();
    expect(appendedColumns(table({ columns: [c0, { ...c1, type: 'varchar' }, c2, c3] }), stored, hashShape(before))).toBeUndefined();
    expect(appendedColumns(table({ keys: [...keys, c3] }), stored, hashShape(before))).toBeUndefined();
    expect(appendedColumns(table({ mode: 'changes', columns: [c0, c1, c2, c3] }), stored, hashShape(before))).toBeUndefined();
    expect(appendedColumns(table({ columns: [c0, c1, c2, c3] }), { ...stored, changeRecords: true }, hashShape(before))).toBeUndefined();
    expect(appendedColumns(table({ columns: [c0, c1] }), stored, hashShape(before))).toBeUndefined();
  });
});

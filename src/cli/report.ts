/** Human-readable output of a dataset run: one line per table, then where its files are. */
import type { DatasetRunResult } from '../workflows';

const OPS = ['I', 'U', 'D', 'X', 'N'] as const;

export function pad(cells: string[][]): string {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

/** Change-record tables' event counts, as columns shown when the run has such a table. */
const EVENT_COLUMNS = [
  ['events', 'events'],
  ['stale', 'stale'],
  ['dup', 'duplicates'],
] as const;

export function formatRunReport(run: DatasetRunResult): string {
  const withEvents = run.tables.some((o) => o.status === 'completed' && o.result.changes);
  const eventColumns = withEvents ? EVENT_COLUMNS : [];
  const header = ['table', 'mode', ...OPS, 'current', 'history', ...eventColumns.map(([title]) => title), 'seconds'];
  const rows = run.tables.map((o) =>
    o.status === 'completed'
      ? [
          o.table,
          o.result.mode,
          ...OPS.map((op) => String(o.result.counts[op])),
          String(o.result.currentRows),
          String(o.result.historyRows),
          ...eventColumns.map(([, field]) => (o.result.changes ? String(o.result.changes[field]) : '-')),
          (o.result.durationMs / 1000).toFixed(1),
        ]
      : [o.table, o.status.toUpperCase(), ...OPS.map(() => '-'), '-', '-', ...eventColumns.map(() => '-'), '-'],
  );
  const details = run.tables.map((o) =>
    o.status === 'completed'
      ? `  ${o.table}: current ${o.result.currentPath}\n  ${' '.repeat(o.table.length)}  history ${o.result.historyPath}`
      : o.status === 'failed'
        ? `  ${o.table}: FAILED: ${o.error}`
        : `  ${o.table}: ${o.status}`,
  );
  const retention = run.retentionError ? `\n  retention: FAILED: ${run.retentionError} (the tables' commits stand; the next run expires what this one could not)` : '';
  return `${run.dataset} ${run.businessDate}\n${pad([header, ...rows])}\n${details.join('\n')}${retention}`;
}

/** Human-readable output of a dataset run: one line per table, then where its files are. */
import type { DatasetRunResult } from '../workflows';

const OPS = ['I', 'U', 'D', 'X', 'N'] as const;

export function pad(cells: string[][]): string {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

export function formatRunReport(run: DatasetRunResult): string {
  const header = ['table', 'mode', ...OPS, 'current', 'history', 'seconds'];
  const rows = run.tables.map((o) =>
    o.status === 'completed'
      ? [o.table, o.result.mode, ...OPS.map((op) => String(o.result.counts[op])), String(o.result.currentRows), String(o.result.historyRows), (o.result.durationMs / 1000).toFixed(1)]
      : [o.table, o.status.toUpperCase(), ...OPS.map(() => '-'), '-', '-', '-'],
  );
  const details = run.tables.map((o) =>
    o.status === 'completed'
      ? `  ${o.table}: current ${o.result.currentPath}\n  ${' '.repeat(o.table.length)}  history ${o.result.historyPath}`
      : o.status === 'failed'
        ? `  ${o.table}: FAILED: ${o.error}`
        : `  ${o.table}: ${o.status}`,
  );
  return `${run.dataset} ${run.businessDate}\n${pad([header, ...rows])}\n${details.join('\n')}`;
}

/** What the bench measures besides wall time: stage seconds, peak memory, disk use. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TableStagesResult } from '../src/activities/run-table-stages';

export const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/**
 * CPU seconds this process used since `start` (process.cpuUsage()): DuckDB's threads and an
 * in-process worker included. Less sensitive than wall time to other work on the machine.
 */
export function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/**
 * CPU seconds the bench's own Temporal dev server (BENCH_TEMPORAL_PID, set by scripts/bench.sh)
 * has used so far, from /proc; undefined for a server the bench did not start.
 */
export function temporalServerCpuSeconds(): number | undefined {
  const pid = process.env.BENCH_TEMPORAL_PID;
  if (!pid) return undefined;
  try {
    // utime and stime, fields 14 and 15, in clock ticks; counted after the command name's ") ".
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Linux's USER_HZ, the unit of /proc's CPU times (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Seconds each stage of a workflow ran, from its history: for an activity type that ran several
 * times at once (a table's key-hash buckets), from the first start to the last completion. The
 * stages inside runTableStages follow it, as `  plan`, `  hash`, … (from its result).
 */
export async function stageSeconds(client: Client, workflowId: string): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  const started = new Map<string, number>();
  const spans: Record<string, { from: number; to: number }> = {};
  let inner: TableStagesResult['stageSeconds'] = {};
  for (const e of history.events ?? []) {
    const at = Number(e.eventTime?.seconds ?? 0) + (e.eventTime?.nanos ?? 0) / 1e9;
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    if (e.activityTaskStartedEventAttributes) started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), at);
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const key = String(done.scheduledEventId);
      const type = scheduled.get(key)!;
      const from = started.get(key)!;
      spans[type] = { from: Math.min(from, spans[type]?.from ?? from), to: Math.max(at, spans[type]?.to ?? at) };
      if (type === 'runTableStages' && done.result?.payloads?.[0]) inner = defaultPayloadConverter.fromPayload<TableStagesResult>(done.result.payloads[0]).stageSeconds;
    }
  }
  return Object.fromEntries(
    Object.entries(spans).flatMap(([type, s]) => [
      [type, s.to - s.from] as const,
      ...(type === 'runTableStages' ? Object.entries(inner).map(([stage, seconds]) => [`  ${stage}`, seconds] as const) : []),
    ]),
  );
}

/** Samples `measure` every `ms` until stopped. */
function sampleEvery(ms: number, measure: () => void): () => void {
  const timer = setInterval(measure, ms);
  return () => clearInterval(timer);
}

/** Peak resident memory (DuckDB included: the worker runs in this process) and peak JS heap. */
export function sampleMemory() {
  const peak = { rss: 0, heap: 0 };
  const stop = sampleEvery(50, () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed);
  });
  return { peak, stop };
}

export function folderBytes(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    try {
      const s = statSync(path.join(dir, entry));
      if (s.isFile()) total += s.size;
    } catch {
      // Removed while we looked: a spill file DuckDB no longer needs.
    }
  }
  return total;
}

/** Samples `dir`'s size every second until stopped; `peak` is the largest seen. */
export function samplePeakBytes(dir: string) {
  const peak = { bytes: 0 };
  const stop = sampleEvery(1000, () => {
    peak.bytes = Math.max(peak.bytes, folderBytes(dir));
  });
  return { peak, stop };
}

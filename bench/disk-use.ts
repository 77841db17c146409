/** Disk use for the bench's report: the size of a folder now, and the peak of one sampled while work runs. */
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

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
  const timer = setInterval(() => {
    peak.bytes = Math.max(peak.bytes, folderBytes(dir));
  }, 1000);
  return { peak, stop: () => clearInterval(timer) };
}

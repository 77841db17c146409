/**
 * A file-source table with `waitForFiles` waits for its date's files on a durable timer (no
 * worker slot held), looking every minute, or every tenth of the wait if that is shorter; a
 * scheduled run then does not fail only because an export arrives late.
 */
import { ApplicationFailure, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { StageInput } from '../activities/types';
import { durationMs } from '../config/duration';

const LOOK_EVERY_MS = { min: 1_000, max: 60_000 };

export async function awaitSourceFiles(a: Activities, input: StageInput, waitForFiles: string): Promise<void> {
  const limit = durationMs(waitForFiles);
  if (limit === undefined) throw ApplicationFailure.nonRetryable(`source.waitForFiles ${JSON.stringify(waitForFiles)} is not a duration such as 15m or 2h`, 'ConfigError');
  const every = Math.min(LOOK_EVERY_MS.max, Math.max(LOOK_EVERY_MS.min, Math.floor(limit / 10)));
  const started = Date.now();
  for (;;) {
    const { pattern, files, awaitingReadyFile } = await a.countSourceFiles(input);
    if (files > 0) return;
    const waited = Date.now() - started;
    if (waited >= limit) {
      throw ApplicationFailure.create({
        type: 'DataError',
        nonRetryable: true,
        message:
          `${awaitingReadyFile ? `the ready file ${pattern} (source.readyFile) did not appear` : `no source file matches ${pattern}`} after waiting ${waitForFiles} ` +
          `(source.waitForFiles) (dataset=${input.table.dataset} table=${input.table.name} businessDate=${input.businessDate})`,
      });
    }
    await sleep(Math.min(every, limit - waited));
  }
}

/** Whether a file-source batch has arrived: how many files its path matches now (a glob, nothing read). */
import type { FileSourceSpec } from '../config/types';
import { arrivedFiles, sourcePattern } from '../sources/file-source';
import { type ActivityDeps, toTemporalFailure } from './stage-runner';
import type { StageInput } from './types';

export interface SourceFilesFound {
  /** The path with the date filled in (the ready file's while it is missing), as the error and the progress line name it. */
  pattern: string;
  files: number;
  /** True while the source's ready file is what is missing. */
  awaitingReadyFile?: boolean;
}

export function countSourceFiles(deps: ActivityDeps) {
  return ({ table, businessDate }: StageInput): Promise<SourceFilesFound> => {
    const source = table.source as FileSourceSpec;
    // A bucket S3 refuses fails the wait at once (toTemporalFailure), as it fails the hash stage.
    return deps.engine
      .withSession(async (session) => {
        const { files, missingReadyFile } = await arrivedFiles(session, source, businessDate);
        if (missingReadyFile !== undefined) return { pattern: missingReadyFile, files: 0, awaitingReadyFile: true };
        return { pattern: sourcePattern(source, businessDate), files: files.length };
      })
      .catch((err: unknown) => Promise.reject(toTemporalFailure(err, 'plan')));
  };
}

/** Stage 4: keys in both: updated (U) when the non-key hash differs, else unchanged (N). */
import { updatesSql } from '../engine/stage-sql';
import { diffStage } from './diff-stage';
import type { ActivityDeps } from './stage-runner';

export const determineUpdates = (deps: ActivityDeps) => diffStage(deps, 'updates', 'updates', updatesSql);

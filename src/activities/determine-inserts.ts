/** Stage 2: keys in the batch and not in the base state are inserts (I). */
import { insertsSql } from '../engine/stage-sql';
import { diffStage } from './diff-stage';
import type { ActivityDeps } from './stage-runner';

export const determineInserts = (deps: ActivityDeps) => diffStage(deps, 'inserts', 'inserts', insertsSql);

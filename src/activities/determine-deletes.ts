/** Stage 3: base keys missing from the batch: deleted (D) by a snapshot, not supplied (X) by a delta. */
import { deletesSql } from '../engine/stage-sql';
import { diffStage } from './diff-stage';
import type { ActivityDeps } from './stage-runner';

export const determineDeletes = (deps: ActivityDeps) =>
  diffStage(deps, 'deletes', 'deletes', (table, date, paths) => deletesSql(table, table.mode, date, paths));

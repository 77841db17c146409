/**
 * Retention, once per dataset run: the catalog's snapshots that no table needs any more are
 * expired and their files deleted (warehouse/retention.ts). A pass costs the catalog about as
 * much for one snapshot as for forty, and the catalog's one connection per process is what
 * small tables wait for: after each table's commit, a 50-table dataset's passes cost it up to
 * about 40 ms per table on a busy machine from its third date on (README, Benchmark).
 */
import { withSharedCatalog } from '../warehouse/catalog';
import { applyRetention } from '../warehouse/retention';
import { type ActivityDeps, runStage } from './stage-runner';

export interface ExpireSnapshotsInput {
  /** The warehouses of the run's tables. */
  warehouses: string[];
}

export function expireSnapshots(deps: ActivityDeps) {
  return ({ warehouses }: ExpireSnapshotsInput): Promise<void> =>
    runStage(deps, 'retention', async () => {
      await deps.atStep?.('retention');
      for (const warehouse of warehouses) await withSharedCatalog(deps.engine, warehouse, 'retention', applyRetention);
    });
}

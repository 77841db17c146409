/**
 * The tables of a dataset's date whose latest run did not complete. Table runs have fixed IDs
 * (cdcflow/<dataset>/<date>/<table>), so each is described directly: no reliance on the
 * visibility store, which may lag a run that just ended.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { DatasetConfig, Mode } from '../config/types';
import { tableWorkflowId } from '../workflows/ids';
import { MODE_KEY } from '../workflows/search-attributes';

export interface TableRunState {
  table: string;
  state: string;
  /** The mode the run used (a schedule may have overridden the config's). */
  mode?: Mode;
}

const FAILED_STATES = ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED'];

export async function tableRunStates(client: Client, config: DatasetConfig, businessDate: string): Promise<TableRunState[]> {
  const states: TableRunState[] = [];
  for (const table of config.tables) {
    try {
      const d = await client.workflow.getHandle(tableWorkflowId(config.dataset, businessDate, table.name)).describe();
      states.push({ table: table.name, state: d.status.name, mode: d.typedSearchAttributes.get(MODE_KEY) as Mode | undefined });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return states;
}

export function failedTables(states: TableRunState[]): TableRunState[] {
  return states.filter((s) => FAILED_STATES.includes(s.state));
}

/**
 * Workflow code must stay deterministic: histories recorded from real runs (test/fixtures/histories)
 * and those of a fresh run must replay against the current workflow code without a
 * non-determinism error. Re-record after an intended, versioned change with
 * CDCFLOW_RECORD_HISTORIES=1.
 *
 * The `release-7f16dc9_*` histories are runs of that release (README "Upgrading workers"): a
 * dataset's queue holding a dump, dataset runs, a two-bucket file table, a PostgreSQL table, a
 * change-record table; some were left open by a killed worker and finished by a later release's.
 * They stand for the runs a user upgrades with, so they are never re-recorded.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { datasetWorkflowId, tableWorkflowId } from '../../src/workflows/ids';
import { type Harness, runDataset, startHarness, tableResult, tempDir, writeConfig, writeCsv } from '../support/harness';

const FIXTURES = path.resolve(__dirname, '../fixtures/histories');

function replayOptions() {
  const codePath = process.env.CDCFLOW_TEST_WORKFLOW_BUNDLE;
  return codePath ? { workflowBundle: { codePath } } : { workflowsPath: require.resolve('../../src/workflows') };
}

describe('workflow determinism', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.stop());

  it('replays the histories of a fresh two-table run, one table failing', async () => {
    const dir = tempDir();
    writeCsv(path.join(dir, 'good.csv'), ['id', 'v'], [[1, 'a'], [2, 'b']]);
    writeCsv(path.join(dir, 'bad.csv'), ['id', 'v'], [['x', 'a']]);
    const table = (name: string) => ({ name, keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: `${name}.csv` } });
    // A fixed dataset name keeps recorded fixtures stable; a unique task queue keeps runs apart.
    const config = writeConfig(dir, { dataset: 'replay', warehouse: 'wh', tables: [table('good'), table('bad')] });
    const out = await runDataset(h, config, '2024-01-01');
    expect(out.ok).toBe(false);
    tableResult(out, 'good');

    const ids = [datasetWorkflowId('replay', '2024-01-01'), tableWorkflowId('replay', '2024-01-01', 'good'), tableWorkflowId('replay', '2024-01-01', 'bad')];
    for (const id of ids) {
      const history = await h.client.workflow.getHandle(id).fetchHistory();
      await Worker.runReplayHistory(replayOptions(), history, id);
      if (process.env.CDCFLOW_RECORD_HISTORIES === '1') {
        writeFileSync(path.join(FIXTURES, `${id.replace(/\//g, '_')}.json`), JSON.stringify(history));
      }
    }
  });

  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
  it('has recorded histories to replay', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
  });
  it.each(fixtures)('replays recorded history %s', async (file) => {
    // Stored as the protobuf message's own JSON (JSON.stringify of a fetched history).
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')));
    await Worker.runReplayHistory(replayOptions(), history, file.replace(/\.json$/, ''));
  });
});

/**
 * The Temporal Web UI as an operator uses it, in a real browser (playwright-core driving
 * Debian's chromium): filter runs by dataset and by a count in the query box, open a table run,
 * and see its counts (search attributes, memo) and its stage activity with its summary.
 * Screenshots go to .cdcflow/test/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { findRuns, queryString } from '../../src/client/find-runs';
import { tableWorkflowId } from '../../src/workflows/ids';
import { type Harness, runDataset, startHarness, tempDir, uniqueDataset, writeConfig, writeCsv } from '../support/harness';

const SCREENSHOTS = path.resolve(__dirname, '../../.cdcflow/test/screenshots');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('Temporal Web UI', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  const ui = process.env.CDCFLOW_TEST_UI_URL!;

  beforeAll(async () => {
    h = await startHarness();
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

  it('finds the runs with deletes of a dataset and shows a table run\'s counts and stages', async () => {
    const dir = tempDir();
    const dataset = uniqueDataset('ui');
    writeCsv(path.join(dir, '2024-01-01.csv'), ['id', 'v'], [[1, 'a'], [2, 'b'], [3, 'c']]);
    writeCsv(path.join(dir, '2024-01-02.csv'), ['id', 'v'], [[1, 'a'], [2, 'B'], [4, 'd']]);
    const config = writeConfig(dir, { dataset, warehouse: 'wh', tables: [{ name: 'items', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: '{date}.csv' } }] });
    for (const date of ['2024-01-01', '2024-01-02']) expect((await runDataset(h, config, date)).ok).toBe(true);

    const query = `CdcflowDataset = ${queryString(dataset)} AND CdcflowDeletes > 0`;
    // The UI lists what the visibility store has; it may lag the runs that just ended.
    for (let i = 0; i < 50 && (await findRuns(h.client, h.settings, dataset, 'CdcflowDeletes > 0')).length < 2; i++) await sleep(200);

    await page.goto(`${ui}/namespaces/${h.settings.namespace}/workflows`, { waitUntil: 'networkidle' });
    await page.getByTestId('toggle-manual-query').click();
    await page.getByTestId('workflow-manual-search-input').fill(query);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const day2 = tableWorkflowId(dataset, '2024-01-02', 'items');
    await page.getByRole('link', { name: day2, exact: true }).waitFor();
    await expect(page.getByRole('link', { name: `cdcflow/${dataset}/2024-01-02`, exact: true }).count()).resolves.toBe(1);
    // Day 1 deleted nothing: the count filter leaves it out.
    await expect(page.getByRole('link', { name: tableWorkflowId(dataset, '2024-01-01', 'items'), exact: true }).count()).resolves.toBe(0);
    await shot('1-runs-with-deletes');

    await page.getByRole('link', { name: day2, exact: true }).click();
    // A small table's stages run in one activity, its summary naming them.
    await page.getByText('plan → hash → diff → write · items · 2024-01-02').first().waitFor();
    await shot('2-table-run-stages');

    await page.getByRole('tab', { name: 'Search Attributes' }).click();
    await page.getByText('"CdcflowDeletes"').first().waitFor();
    const attributes = (await page.locator('main').innerText()).replace(/\s+/g, '');
    for (const [name, value] of [['CdcflowInserts', '1'], ['CdcflowUpdates', '1'], ['CdcflowDeletes', '1'], ['CdcflowUnchanged', '1'], ['CdcflowRows', '3'], ['CdcflowBusinessDate', '"2024-01-02"']]) {
      expect(attributes).toContain(`"${name}":${value}`);
    }
    await shot('3-table-run-search-attributes');

    await page.getByRole('tab', { name: 'Memo' }).click();
    await page.getByText('"counts"').first().waitFor();
    expect((await page.locator('main').innerText()).replace(/\s+/g, '')).toContain('"counts":{"I":1,"U":1,"D":1,"X":0,"N":1}');
    await shot('4-table-run-memo');
  });

  it('shows a failed table run\'s error in plain words: stage, file, row, column and value', async () => {
    const dir = tempDir();
    const dataset = uniqueDataset('uifail');
    writeCsv(path.join(dir, 'items.csv'), ['id', 'v'], [[1, 'a'], ['two', 'b']]);
    const config = writeConfig(dir, { dataset, warehouse: 'wh', tables: [{ name: 'items', keys: [{ name: 'id', type: 'integer' }], columns: [{ name: 'v', type: 'varchar' }], source: { format: 'csv', path: 'items.csv' } }] });
    expect((await runDataset(h, config, '2024-01-01')).ok).toBe(false);
    const describe = await h.client.workflow.getHandle(tableWorkflowId(dataset, '2024-01-01', 'items')).describe();

    await page.goto(`${ui}/namespaces/${h.settings.namespace}/workflows/${encodeURIComponent(describe.workflowId)}/${describe.runId}/history`, { waitUntil: 'networkidle' });
    const failure = page.getByText(/hash failed: .*two/).first();
    await failure.waitFor();
    const message = await failure.innerText();
    expect(message).toContain(`file=${path.join(dir, 'items.csv')}`);
    expect(message).toMatch(/row=2 line=3 column=id value=two/);
    await shot('5-failed-table-run');
  });
});

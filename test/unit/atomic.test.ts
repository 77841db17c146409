/** Files that many workers create at once: one value wins, whole, and every caller gets it. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readOrCreateJson } from '../../src/warehouse/atomic';

describe('readOrCreateJson', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdcflow-atomic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives concurrent callers the first value written, and leaves no temporary file', async () => {
    const file = path.join(dir, 'owner.json');
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => readOrCreateJson(file, { owner: `w${i}` })));
    expect(new Set(got.map((g) => g.owner)).size).toBe(1);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(got[0]);
    expect(await readOrCreateJson(file, { owner: 'later' })).toEqual(got[0]);
    expect(readdirSync(dir)).toEqual(['owner.json']);
  });
});

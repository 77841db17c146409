/** `generate --changes`: same seed same bytes, the promised mix, and refused options. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../src/errors';
import { generateChanges } from '../../src/generator/generate-changes';

describe('generate --changes', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'cdcflow-genchg-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the same bytes for the same seed, other bytes for another, and the promised mix', async () => {
    const options = { initial: 400, events: 300, touched: 100, seed: 7 };
    const a = await generateChanges({ ...options, outDir: path.join(root, 'a') });
    const b = await generateChanges({ ...options, outDir: path.join(root, 'b') });
    const c = await generateChanges({ ...options, seed: 8, outDir: path.join(root, 'c') });
    const bytes = (r: typeof a) => [readFileSync(r.files.day1), readFileSync(r.files.day2)];
    expect(bytes(a)).toEqual(bytes(b));
    expect(readFileSync(c.files.day2)).not.toEqual(readFileSync(a.files.day2));
    expect(a.expected.counts).toEqual({ I: 20, U: 60, D: 20, X: 320, N: 0 });
    expect(a.expected.changes).toMatchObject({ events: 300 + 15 + 15, duplicates: 15, stale: 15 });
    const lines = readFileSync(a.files.day2, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('op,seq,key_1,value_1,value_2,value_3,value_4,value_5,value_6,value_7,value_8,value_9,value_10');
    expect(lines).toHaveLength(1 + 330);
    expect(lines.filter((l) => l.startsWith('D,'))).toHaveLength(a.expected.changes.deletes);
  });

  it('refuses shares that do not add up and more keys than day 1 has', async () => {
    await expect(generateChanges({ outDir: path.join(root, 'x'), insert: 0.5, update: 0.5, delete: 0.5 })).rejects.toThrow(
      /--insert, --update and --delete must add up to 1, but 0.5 \+ 0.5 \+ 0.5 = 1.5/,
    );
    await expect(generateChanges({ outDir: path.join(root, 'y'), initial: 10, events: 100, touched: 100 })).rejects.toThrow(ConfigError);
    await expect(generateChanges({ outDir: path.join(root, 'z'), events: 10, touched: 20 })).rejects.toThrow(/--touched must be an integer in \[1, 10\]/);
  });
});

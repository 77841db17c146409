/**
 * Workflow code runs in Temporal's deterministic sandbox: it may import only the workflow SDK,
 * other workflow files and pure modules; activities, DuckDB and Node built-ins only as types.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { valueImports } from '../support/value-imports';

const WORKFLOWS = path.resolve(__dirname, '../../src/workflows');
const PURE = ['../errors', '../engine/key-buckets', '../config/iso-date', '../config/sha256', '../config/duration'];
const ALLOWED = ['@temporalio/workflow', '@temporalio/common', ...PURE];

describe('workflow code', () => {
  const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith('.ts'));

  it.each(files)('%s imports only deterministic modules', (file) => {
    const bad = valueImports(path.join(WORKFLOWS, file)).filter((spec) => !ALLOWED.includes(spec) && !spec.startsWith('./'));
    expect(bad).toEqual([]);
  });

  it('the pure modules it imports import nothing themselves', () => {
    for (const pure of PURE) expect(valueImports(path.resolve(WORKFLOWS, `${pure}.ts`))).toEqual([]);
  });

  it('notices a forbidden import', () => {
    const sample = path.join(tmpdir(), 'cdcflow-bad-workflow.ts');
    writeFileSync(sample, "import { readFileSync } from 'node:fs';\nimport type { Engine } from '../engine/duckdb';\n");
    expect(valueImports(sample)).toEqual(['node:fs']);
  });
});

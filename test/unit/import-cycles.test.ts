/**
 * No module of src/ imports itself through others: a cycle makes what a module sees at load
 * time depend on which module of the cycle loads first.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { valueImports } from '../support/value-imports';

/** Every cycle of value imports between the .ts files under `root`, as paths relative to it. */
function importCycles(root: string): string[][] {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(root, f));
  const imports = (file: string) =>
    valueImports(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => `${path.resolve(path.dirname(file), spec)}.ts`)
      .filter((f) => existsSync(f));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[][] = [];
  const visit = (file: string, stack: string[]) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of imports(file)) {
      if (state.get(next) === 'open') cycles.push(stack.slice(stack.indexOf(next)).map((f) => path.relative(root, f)));
      else if (!state.has(next)) visit(next, stack);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file, []);
  return cycles;
}

describe('module imports', () => {
  it('have no cycles in src/', () => {
    expect(importCycles(path.resolve(__dirname, '../../src'))).toEqual([]);
  });

  it('notices a cycle, and not one made of type imports', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdcflow-cycle-'));
    writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b';\nexport const a = b;\n");
    writeFileSync(path.join(dir, 'b.ts'), "import { c } from './c';\nexport const b = c;\n");
    writeFileSync(path.join(dir, 'c.ts'), "import { a } from './a';\nimport type { T } from './d';\nexport const c = 1;\n");
    writeFileSync(path.join(dir, 'd.ts'), "import type { c } from './c';\nexport type T = typeof c;\n");
    expect(importCycles(dir)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});

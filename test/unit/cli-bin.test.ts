/**
 * The package's bin (dist/cli/main.js, as `npm run build` leaves it) runs as a program, as `npx
 * cdcflow` and npm's bin links run it: executed directly, through its `#!/usr/bin/env node` line.
 * tsc writes it without the execute bit, and npx sets that bit only when it links the checkout
 * anew, so a checkout built again (a clean build, a clone at a path npx had seen) said `sh: 1:
 * cdcflow: Permission denied`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: { cdcflow: string } }).bin.cdcflow);

describe('the cdcflow bin', () => {
  it('is executable by everyone after the build and runs as a program', () => {
    expect((statSync(bin).mode & 0o111).toString(8)).toBe('111');
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

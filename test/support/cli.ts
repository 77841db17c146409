/** Runs the built CLI (dist/) as a user would, in a child process. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

export const CLI = path.resolve(__dirname, '../../dist/cli/main.js');

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cdcflow args…`; `until` may stop it (SIGTERM) once its stderr says enough, `timeoutMs` after that long. */
export function cdcflow(args: string[], env: Record<string, string>, until?: (stderr: string) => boolean, timeoutMs?: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (until?.(stderr)) child.kill('SIGTERM');
    });
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

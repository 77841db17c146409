/**
 * BENCH_WORKERS: worker processes beside the bench's in-process worker, on its task queue, as a
 * user runs several `cdcflow worker` processes on one machine (sharing its SQLite catalog).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';

/** This build's CLI (the bench compiles src beside bench/). */
const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');

/** Starts `count` workers and resolves once each polls; the result stops them. */
export async function startMoreWorkers(count: number, taskQueue: string, activitySlots: number): Promise<() => Promise<void>> {
  const children: ChildProcess[] = [];
  const stop = async () => {
    const exits = children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((resolve) => c.once('exit', resolve)));
    for (const c of children) c.kill('SIGINT');
    await Promise.all(exits);
  };
  try {
    for (let i = 0; i < count; i++) {
      const child = spawn(process.execPath, [CLI, 'worker', '--max-activities', String(activitySlots)], {
        env: { ...process.env, CDCFLOW_TASK_QUEUE: taskQueue },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const read = (chunk: Buffer) => {
          out = (out + chunk.toString()).slice(-4000);
          if (out.includes('cdcflow worker: task queue')) resolve();
        };
        child.stdout!.on('data', read);
        child.stderr!.on('data', read);
        child.once('exit', (code, signal) => reject(new Error(`bench worker exited at startup (${code ?? signal}):\n${out}`)));
      });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return stop;
}

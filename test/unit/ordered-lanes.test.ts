import { runOnLanes } from '../../src/sources/ordered-lanes';

/** A promise resolved from outside, to finish jobs in a chosen order. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const tick = () => new Promise((r) => setImmediate(r));

/** Jobs 1..count; `next` fails at `failAt` if given. */
function jobs(count: number, failAt?: number) {
  let n = 0;
  return async () => {
    if (n === failAt) throw new Error(`next failed after ${n}`);
    return n < count ? ++n : undefined;
  };
}

describe('runOnLanes', () => {
  it('runs a job per lane at once and hands results over in job order, whatever order they finish in', async () => {
    const finish = new Map<number, ReturnType<typeof deferred<string>>>();
    const running: string[] = [];
    const handed: string[] = [];
    const done = runOnLanes(
      ['a', 'b'],
      jobs(4),
      (lane, job) => {
        running.push(`${job}@${lane}`);
        finish.set(job, deferred<string>());
        return finish.get(job)!.promise;
      },
      async (job, result) => void handed.push(`${job}:${result}`),
    );
    await tick();
    expect(running).toEqual(['1@b', '2@a']);
    finish.get(2)!.resolve('two');
    await tick();
    // Job 2 is done but waits for job 1; no lane is free for job 3 until job 1 is handed over.
    expect(handed).toEqual([]);
    expect(running).toHaveLength(2);
    finish.get(1)!.resolve('one');
    await tick();
    expect(handed).toEqual(['1:one', '2:two']);
    expect(running).toEqual(['1@b', '2@a', '3@b', '4@a']);
    finish.get(3)!.resolve('three');
    finish.get(4)!.resolve('four');
    await done;
    expect(handed).toEqual(['1:one', '2:two', '3:three', '4:four']);
  });

  it('a failed job: nothing after it is handed over, running jobs are waited for, its error is thrown', async () => {
    const handed: number[] = [];
    let settled = 0;
    const work = async (_lane: string, job: number) => {
      await tick();
      settled++;
      if (job === 2) throw new Error('job 2 failed');
      return job;
    };
    await expect(runOnLanes(['a', 'b'], jobs(5), work, async (job) => void handed.push(job))).rejects.toThrow('job 2 failed');
    expect(handed).toEqual([1]);
    expect(settled).toBe(3);
  });

  it('a failed next: the jobs already running are still handed over, in order, then its error is thrown', async () => {
    const handed: number[] = [];
    await expect(runOnLanes(['a', 'b', 'c'], jobs(9, 2), async (_lane, job) => job, async (job) => void handed.push(job))).rejects.toThrow('next failed after 2');
    expect(handed).toEqual([1, 2]);
  });

  it('a failed hand-over stops the rest', async () => {
    const handed: number[] = [];
    const handOver = async (job: number) => {
      if (job === 2) throw new Error('manifest not written');
      handed.push(job);
    };
    await expect(runOnLanes(['a', 'b'], jobs(6), async (_lane, job) => job, handOver)).rejects.toThrow('manifest not written');
    expect(handed).toEqual([1]);
  });
});

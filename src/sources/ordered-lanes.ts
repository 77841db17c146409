/**
 * Jobs produced one after another, run on up to one per lane at once, their results handed
 * over in the order the jobs were produced: a chunk read beside the one before it is
 * checkpointed only after that one, so the checkpoints always name a gapless prefix.
 */
export async function runOnLanes<L, J, R>(
  lanes: readonly L[],
  next: () => Promise<J | undefined>,
  work: (lane: L, job: J) => Promise<R>,
  handOver: (job: J, result: R) => Promise<void>,
): Promise<void> {
  const running: { lane: L; job: J; result: Promise<R> }[] = [];
  const free = [...lanes];
  /** After a job or a hand-over failed, later results would leave a gap: none is handed over. */
  let broken = false;
  const handOverOldest = async () => {
    const { lane, job, result } = running.shift()!;
    try {
      await handOver(job, await result);
    } catch (err) {
      broken = true;
      throw err;
    } finally {
      free.push(lane);
    }
  };
  // The job after the one waiting for a lane is produced meanwhile: a lane that frees up starts at once.
  let upcoming: Promise<J | undefined> | undefined = next();
  try {
    for (let job = await upcoming; job !== undefined; job = await upcoming) {
      upcoming = next();
      // Awaited by the loop; this keeps a failure meanwhile from going unhandled.
      upcoming.catch(() => undefined);
      if (free.length === 0) await handOverOldest();
      const lane = free.pop()!;
      const result = work(lane, job);
      result.catch(() => undefined);
      running.push({ lane, job, result });
    }
    upcoming = undefined;
    while (running.length > 0) await handOverOldest();
  } catch (err) {
    await upcoming?.catch(() => undefined);
    // `next` failed: the jobs already running still count, in order, up to the first failure.
    while (!broken && running.length > 0) await handOverOldest().catch(() => undefined);
    await Promise.allSettled(running.map((r) => r.result));
    throw err;
  }
}

/** Waiting for the other side of a dataset's turn (the queue, or the run holding the turn), which may end without a word. */
import { condition } from '@temporalio/workflow';

/** The other side is asked whether it is still there soon, then less often. */
const CHECK_FIRST_MS = 5_000;
const CHECK_MAX_MS = 300_000;

/** Waits until `done`; false as soon as `stillThere` says the side that would make it so has gone. */
export async function awaitUnlessGone(done: () => boolean, stillThere: () => Promise<boolean>): Promise<boolean> {
  for (let wait = CHECK_FIRST_MS; !(await condition(done, wait)); wait = Math.min(wait * 2, CHECK_MAX_MS)) {
    if (!(await stillThere())) return false;
  }
  return true;
}

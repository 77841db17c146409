/**
 * What long work is waiting on (a lock in PostgreSQL, say), passed up to whoever reports its
 * progress without threading a callback through every layer between them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Wait {
  note: string;
  /**
   * The wait has gone on too long and nothing on this side can end it (a server that does not
   * answer leaves DuckDB blocked in a read no interrupt reaches): the stage stops heartbeating,
   * so that Temporal retries it instead of waiting forever.
   */
  stalled?: boolean;
}

type WaitListener = (wait: Wait | undefined) => void;

const listeners = new AsyncLocalStorage<WaitListener>();

/** Runs `fn`, giving `listener` every wait that the work inside it notes. */
export function withWaitNotes<T>(listener: WaitListener, fn: () => Promise<T>): Promise<T> {
  return listeners.run(listener, fn);
}

/** Says what the running work waits on; undefined once it no longer waits. No-op outside withWaitNotes. */
export function noteWait(wait: Wait | undefined): void {
  listeners.getStore()?.(wait);
}

/** Runs `fn`, giving `also` every wait that the work inside it notes, besides whoever already hears them. */
export function alsoHearingWaits<T>(also: WaitListener, fn: () => Promise<T>): Promise<T> {
  const outer = listeners.getStore();
  return listeners.run((wait) => {
    outer?.(wait);
    also(wait);
  }, fn);
}

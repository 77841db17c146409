/** What a change-record table's run reports besides the per-row operations (types only: workflows import it). */
export interface ChangeCounts {
  /** Events read (duplicates included), and how many of them were inserts, updates and deletes. */
  events: number;
  inserts: number;
  updates: number;
  deletes: number;
  /** Extra copies of an event: same key, same ordering values, same content. Applied once. */
  duplicates: number;
  /** Events not newer than what the state held for their key: ignored. */
  stale: number;
}

/** The counts the hash stage knows; `stale` needs the base state and comes from the write. */
export type EventCounts = Omit<ChangeCounts, 'stale'>;

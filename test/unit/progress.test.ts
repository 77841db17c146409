/** The CLI's progress line names the stage a running activity last heartbeated. */
import { defaultPayloadConverter } from '@temporalio/common';
import { hasLivePoller, heartbeatStage, stagesDone, turnWait, waitNote } from '../../src/client/progress';

const beat = (details: unknown) => ({ heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload(details)] } });

describe('heartbeatStage', () => {
  it('is the stage of the first running activity that heartbeated one', () => {
    expect(heartbeatStage([{}, beat({ stage: 'hash', percent: 40 })])).toBe('hash');
    expect(heartbeatStage([beat({ stage: 'diff', percent: 0 }), beat({ stage: 'write', percent: 0 })])).toBe('diff');
  });

  it('is nothing before a heartbeat, or for details without a stage', () => {
    expect(heartbeatStage([])).toBeUndefined();
    expect(heartbeatStage([{ heartbeatDetails: null }, { heartbeatDetails: { payloads: [] } }])).toBeUndefined();
    expect(heartbeatStage([beat({ chunks: 3 }), beat(null)])).toBeUndefined();
  });
});

describe('stagesDone', () => {
  it("counts the stages before the heartbeat's inside a file table's one activity, which the run counts only when it ends", () => {
    expect([undefined, 'plan', 'hash', 'diff', 'write'].map((stage) => stagesDone(0, stage))).toEqual([0, 0, 1, 2, 3]);
  });

  it("keeps the run's own count where it is ahead (stages as activities of their own, an extract before)", () => {
    expect(stagesDone(3.5, 'diff')).toBe(3);
    expect(stagesDone(2, 'hash')).toBe(2);
    expect(stagesDone(1, 'extract')).toBe(1);
  });
});

describe('hasLivePoller', () => {
  const now = Date.parse('2024-01-01T00:10:00Z');
  const polled = (secondsAgo: number) => ({ lastAccessTime: { seconds: now / 1000 - secondsAgo } });

  it('counts a worker that polled within the long poll, not one the server still lists after it died', () => {
    expect(hasLivePoller([polled(65)], now)).toBe(true);
    expect(hasLivePoller([polled(120)], now)).toBe(false);
    expect(hasLivePoller([polled(300), polled(5)], now)).toBe(true);
    expect(hasLivePoller([], now)).toBe(false);
  });

  it('counts a poller without a time', () => {
    expect(hasLivePoller([{}], now)).toBe(true);
  });
});

describe('turnWait', () => {
  const run = 'cdcflow/shop/2024-01-02';

  it('names the holder of the turn and how many more are ahead of the run', () => {
    expect(turnWait({ active: 'cdcflow/shop/2024-01-01', waiting: [run] }, run)).toBe("waiting for the dataset's turn: cdcflow/shop/2024-01-01 holds it");
    expect(turnWait({ active: 'cdcflow/shop/backfill/r1', waiting: ['r2', 'cdcflow/shop/2024-01-03', run] }, run)).toBe(
      "waiting for the dataset's turn: cdcflow/shop/backfill/r1 holds it (2 more ahead)",
    );
  });

  it('is nothing for a run that is not waiting in the queue, or holds the turn', () => {
    expect(turnWait({ active: 'cdcflow/shop/2024-01-01', waiting: [] }, run)).toBeUndefined();
    expect(turnWait({ active: run, waiting: [] }, run)).toBeUndefined();
    expect(turnWait({ active: null, waiting: [run] }, run)).toBeUndefined();
  });
});

describe('waitNote', () => {
  it('is what a running stage said it waits on, or nothing', () => {
    const waiting = 'PostgreSQL ($DB): waiting 12s for a lock on s.t, held by session 7 (psql, idle in transaction for 30s)';
    expect(waitNote([beat({ stage: 'extract', percent: 0, waiting })])).toBe(` · ${waiting}`);
    expect(waitNote([beat({ stage: 'extract', percent: 0 })])).toBe('');
  });
});

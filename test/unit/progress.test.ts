/** The CLI's progress line names the stage a running activity last heartbeated. */
import { defaultPayloadConverter } from '@temporalio/common';
import { hasLivePoller, heartbeatStage } from '../../src/client/progress';

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

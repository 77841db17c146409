/** The CLI's progress line names the stage a running activity last heartbeated. */
import { defaultPayloadConverter } from '@temporalio/common';
import { heartbeatStage } from '../../src/client/progress';

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

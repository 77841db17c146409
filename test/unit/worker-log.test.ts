/** The worker's log: expected failures are one line where they happen, without a stack. */
import { ApplicationFailure } from '@temporalio/common';
import { rewriteLogEntry } from '../../src/worker-log';

describe('worker log', () => {
  const meta = { workflowId: 'cdcflow/d/2024-01-01/t' };

  it('logs an expected activity failure as one line with its type and message, without the error object', () => {
    const error = ApplicationFailure.create({ type: 'DataError', message: 'value "x" in column "id" ...', nonRetryable: true });
    expect(rewriteLogEntry({ level: 'WARN', message: 'Activity failed', meta: { ...meta, error } })).toEqual({
      level: 'WARN',
      message: 'Activity failed: DataError: value "x" in column "id" ...',
      meta,
    });
  });

  it('keeps an unexpected activity failure as the SDK logs it, stack and all', () => {
    const entry = { level: 'WARN' as const, message: 'Activity failed', meta: { ...meta, error: new Error('socket hang up') } };
    expect(rewriteLogEntry(entry)).toBe(entry);
  });

  it('demotes workflow failures whose cause was logged already, and shortens the others to their message', () => {
    const failed = (message: string) => ({ level: 'WARN' as const, message: 'Workflow failed', meta: { ...meta, error: new Error(message) } });
    expect(rewriteLogEntry(failed('Activity task failed')).level).toBe('DEBUG');
    expect(rewriteLogEntry(failed('Child Workflow execution failed')).level).toBe('DEBUG');
    expect(rewriteLogEntry(failed('1 of 2 table(s) failed: t: ...')).level).toBe('DEBUG');
    expect(rewriteLogEntry(failed('the full snapshot has no rows; ...'))).toEqual({
      level: 'WARN',
      message: 'Workflow failed: the full snapshot has no rows; ...',
      meta,
    });
  });

  it('passes everything else through', () => {
    const entry = { level: 'INFO' as const, message: 'Worker state changed', meta };
    expect(rewriteLogEntry(entry)).toBe(entry);
  });
});

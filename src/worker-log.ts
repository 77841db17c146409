/**
 * The worker's log. The SDK logs a failure at every level it passes (the activity, the table
 * workflow, the dataset workflow), each time with a stack; an expected failure (bad data or
 * config, refused by cdcflow on purpose) is instead one line, where it happened, without a stack.
 */
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from './errors';
import { TABLE_STAGES } from './workflows/table-workflow';

interface Entry {
  level: LogLevel;
  message: string;
  meta?: LogMetadata;
}

/** Workflow failures whose cause was logged already, by the activity or the table that failed. */
const ALREADY_LOGGED = [
  /^Activity task failed$/,
  /^Child Workflow execution failed$/,
  /^\d+ of \d+ table\(s\) failed: /,
  // A table run restating its stage's failure (plainStageFailure): the activity logged it.
  new RegExp(`^(${TABLE_STAGES.join('|')}) failed: `),
];

export function rewriteLogEntry(entry: Entry): Entry {
  const { error, ...meta } = entry.meta ?? {};
  const failure = error as { type?: string; message?: string } | undefined;
  if (entry.message === 'Activity failed' && (NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(failure?.type ?? '')) {
    return { level: 'WARN', message: `Activity failed: ${failure!.type}: ${failure!.message}`, meta };
  }
  if (entry.message === 'Workflow failed' && failure?.message !== undefined) {
    if (ALREADY_LOGGED.some((re) => re.test(failure.message!))) return { level: 'DEBUG', message: entry.message, meta };
    // Workflows fail only by throwing a failure on purpose (a bug fails the workflow task instead).
    return { level: entry.level, message: `Workflow failed: ${failure.message}`, meta };
  }
  return entry;
}

export class WorkerLogger implements Logger {
  constructor(private readonly inner: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const entry = rewriteLogEntry({ level, message, meta });
    this.inner.log(entry.level, entry.message, entry.meta);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

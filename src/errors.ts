/**
 * One error hierarchy for cdcflow. The class name becomes the ApplicationFailure `type`
 * when an activity throws, so names are set explicitly and must stay stable.
 */

/** Where an error happened, as precisely as known. */
export interface ErrorContext {
  dataset?: string;
  table?: string;
  file?: string;
  row?: number;
  column?: string;
  value?: string;
  businessDate?: string;
  [key: string]: string | number | undefined;
}

export class CdcflowError extends Error {
  readonly context: ErrorContext;

  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CdcflowError';
    this.context = context;
  }
}

/** The config file is missing, unreadable or invalid. */
export class ConfigError extends CdcflowError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, context, options);
    this.name = 'ConfigError';
  }
}

/** The input data breaks the contract: missing columns, bad values, null or duplicate keys. */
export class DataError extends CdcflowError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, context, options);
    this.name = 'DataError';
  }
}

/** The run cannot be applied to the committed state: an older date, or a base that moved. */
export class StateError extends CdcflowError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, context, options);
    this.name = 'StateError';
  }
}

/**
 * Another run of the table committed while this one ran, so its base is stale. Not retried
 * as it is: the table workflow plans again on the new base (or refuses an older date).
 */
export class StaleBaseError extends CdcflowError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, context, options);
    this.name = 'StaleBaseError';
  }
}

/**
 * DuckDB could not finish within its memory limit, even spilling to disk. Retrying the same
 * query under the same limit fails the same way: the limit (or the concurrency) must change.
 */
export class ResourceError extends CdcflowError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, context, options);
    this.name = 'ResourceError';
  }
}

/**
 * A source file changed while its batch was read: still being written. Retried: a later attempt
 * reads it whole, or fails once the stage's attempts run out.
 */
export class SourceChangedError extends CdcflowError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, context, options);
    this.name = 'SourceChangedError';
  }
}

/** Failures that a retry cannot fix: Temporal must not retry them. */
export const NON_RETRYABLE_ERROR_TYPES = ['ConfigError', 'DataError', 'StateError', 'StaleBaseError', 'ResourceError'] as const;

/** "dataset=d table=t file=f row=3 column=c" for the parts that are known. */
export function describeContext(context: ErrorContext): string {
  return Object.entries(context)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : v}`)
    .join(' ');
}

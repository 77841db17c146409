/** A start the server refused because its namespace lacks cdcflow's search attributes. */
import { ConfigError } from '../errors';
import type { TemporalSettings } from '../settings';

/** A start the server refused for lack of cdcflow's search attributes: a ConfigError saying what to do. */
export function refuseMissingSearchAttributes(settings: Pick<TemporalSettings, 'namespace' | 'searchAttributes'>, err: unknown): void {
  if (!settings.searchAttributes || !/search attribute/i.test(String((err as Error).cause ?? err))) return;
  throw new ConfigError(
    `the Temporal namespace ${settings.namespace} lacks cdcflow's search attributes: register them ` +
      '(temporal operator search-attribute create --name CdcflowDataset --type Keyword ..., see README) ' +
      'or set CDCFLOW_SEARCH_ATTRIBUTES=off',
    {},
    { cause: err },
  );
}

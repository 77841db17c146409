/** Connecting to Temporal, with a failure that says where and what to do about it. */
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError } from '../errors';
import type { TemporalSettings } from '../settings';

function unreachable(settings: TemporalSettings, cause: unknown): ConfigError {
  return new ConfigError(
    `cannot connect to Temporal at ${settings.address} (${(cause as Error)?.message ?? cause}). ` +
      'Start a local server first (scripts/start-temporal.sh, or `temporal server start-dev`; `npm run demo` starts one too), ' +
      'or point TEMPORAL_ADDRESS at yours',
  );
}

export async function connectClient(settings: TemporalSettings): Promise<Connection> {
  try {
    return await Connection.connect({ address: settings.address });
  } catch (err) {
    throw unreachable(settings, err);
  }
}

export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ address: settings.address });
  } catch (err) {
    throw unreachable(settings, err);
  }
}

/** Connecting to Temporal, with a failure that says where and what to do about it. */
import { readFileSync } from 'node:fs';
import { Connection, type TLSConfig } from '@temporalio/client';
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

/** The address, TLS (certificates read from their files) and API key of a connection. */
export function connectionOptions(settings: TemporalSettings): { address: string; tls?: TLSConfig | boolean; apiKey?: string } {
  const { tls, apiKey, address } = settings;
  if (!tls) return { address, ...(apiKey ? { apiKey, tls: true } : {}) };
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (cause) {
      throw new ConfigError(`cannot read ${what} ${file}: ${(cause as Error).message}`, { file }, { cause });
    }
  };
  const config: TLSConfig = {
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
    ...(tls.serverCaCertPath ? { serverRootCACertificate: read(tls.serverCaCertPath, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH') } : {}),
    ...(tls.clientCertPath && tls.clientKeyPath
      ? { clientCertPair: { crt: read(tls.clientCertPath, 'TEMPORAL_TLS_CLIENT_CERT_PATH'), key: read(tls.clientKeyPath, 'TEMPORAL_TLS_CLIENT_KEY_PATH') } }
      : {}),
  };
  return { address, tls: Object.keys(config).length ? config : true, ...(apiKey ? { apiKey } : {}) };
}

export async function connectClient(settings: TemporalSettings): Promise<Connection> {
  const options = connectionOptions(settings);
  try {
    return await Connection.connect(options);
  } catch (err) {
    throw unreachable(settings, err);
  }
}

export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  const options = connectionOptions(settings);
  try {
    return await NativeConnection.connect(options);
  } catch (err) {
    throw unreachable(settings, err);
  }
}

/** A Temporal client for the length of one command; the connection is closed after. */
import { Client } from '@temporalio/client';
import { connectClient } from './connect';
import type { TemporalSettings } from '../settings';

export async function withClient<T>(settings: TemporalSettings, work: (client: Client) => Promise<T>): Promise<T> {
  const connection = await connectClient(settings);
  try {
    return await work(new Client({ connection, namespace: settings.namespace }));
  } finally {
    await connection.close();
  }
}

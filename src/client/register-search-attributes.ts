/**
 * Registers cdcflow's search attributes on a namespace that lacks them (`cdcflow setup`);
 * attributes already there are left alone, so running it again changes nothing.
 */
import type { Client } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { ConfigError } from '../errors';
import { CDCFLOW_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

export interface Registration {
  name: string;
  type: string;
  change: 'added' | 'present';
}

export async function registerSearchAttributes(client: Client, namespace: string): Promise<Registration[]> {
  const existing = (await client.connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  const wanted = CDCFLOW_SEARCH_ATTRIBUTES.map((key) => ({ name: key.name, type: key.type, indexed: encodeSearchAttributeIndexedValueType(key.type)! }));
  const clash = wanted.filter((w) => w.name in existing && existing[w.name] !== w.indexed);
  if (clash.length > 0) {
    throw new ConfigError(`namespace ${namespace} has ${clash.map((c) => c.name).join(', ')} with another type than cdcflow's (${clash.map((c) => `${c.name}: ${c.type}`).join(', ')})`);
  }
  const missing = wanted.filter((w) => !(w.name in existing));
  if (missing.length > 0) {
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((m) => [m.name, m.indexed])),
    });
  }
  return wanted.map((w) => ({ name: w.name, type: w.type, change: missing.includes(w) ? 'added' : 'present' }));
}

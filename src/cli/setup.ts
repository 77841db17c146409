import { Command } from 'commander';
import { registerSearchAttributes } from '../client/register-search-attributes';
import { withClient } from '../client/with-client';
import { temporalSettings } from '../settings';

export function setupCommand(): Command {
  return new Command('setup')
    .description("register cdcflow's search attributes on an existing Temporal namespace (safe to run again)")
    .action(async () => {
      const settings = temporalSettings();
      const done = await withClient(settings, (client) => registerSearchAttributes(client, settings.namespace));
      for (const r of done) process.stdout.write(`${r.change === 'added' ? 'added  ' : 'present'}  ${r.name} (${r.type})\n`);
    });
}

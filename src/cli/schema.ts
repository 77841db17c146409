import { Command } from 'commander';
import { configJsonSchema } from '../config/schema';

export function schemaCommand(): Command {
  return new Command('schema')
    .description('print the JSON Schema of the dataset config file (for editors)')
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}

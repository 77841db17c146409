#!/usr/bin/env node
import { Command } from 'commander';
import { generateCommand } from './generate';
import { runCommand } from './run';
import { schemaCommand } from './schema';
import { validateCommand } from './validate';
import { workerCommand } from './worker';

const program = new Command('cdcflow')
  .description('Config-driven change-data-capture ETL: Temporal orchestrates, DuckDB does the data work')
  .version('0.1.0')
  .showHelpAfterError();

program.addCommand(validateCommand());
program.addCommand(schemaCommand());
program.addCommand(generateCommand());
program.addCommand(workerCommand());
program.addCommand(runCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`cdcflow: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

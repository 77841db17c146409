#!/usr/bin/env node
import { Command } from 'commander';
import { bundleCommand } from './bundle';
import { backfillCommand } from './backfill';
import { generateCommand } from './generate';
import { retryCommand } from './retry';
import { runCommand } from './run';
import { scheduleCommand } from './schedule';
import { schemaCommand } from './schema';
import { setupCommand } from './setup';
import { statusCommand } from './status';
import { vacuumCommand } from './vacuum';
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
program.addCommand(scheduleCommand());
program.addCommand(backfillCommand());
program.addCommand(retryCommand());
program.addCommand(statusCommand());
program.addCommand(setupCommand());
program.addCommand(vacuumCommand());
program.addCommand(bundleCommand());

/** The message with its causes: SDK errors often say "failed" and keep the reason in `cause`. */
function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const message = e instanceof Error ? e.message : String(e);
    // A message that already quotes its cause's (ConfigError's "cannot read …: ENOENT …") says it once.
    if (message && !parts.some((p) => p.includes(message))) parts.push(message);
  }
  return parts.join(': ');
}

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`cdcflow: ${describeError(err)}\n`);
  process.exit(1);
});

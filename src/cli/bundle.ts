import { writeFileSync, renameSync } from 'node:fs';
import { Command } from 'commander';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

/** The workflow code bundled once (the image does this at build time), so workers start without webpack. */
export function bundleCommand(): Command {
  return new Command('bundle')
    .description('write the prebuilt workflow bundle that workers load with CDCFLOW_WORKFLOW_BUNDLE (production images)')
    .requiredOption('--out <file>', 'bundle file to write')
    .action(async (opts: { out: string }) => {
      const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
      const tmp = `${opts.out}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, opts.out);
      process.stderr.write(`workflow bundle written to ${opts.out}\n`);
    });
}

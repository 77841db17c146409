/** The workflow bundle's entry: every workflow the worker registers, plus their queries. */
export { datasetWorkflow, datasetProgressQuery } from './dataset-workflow';
export type { DatasetWorkflowInput, DatasetRunResult, TableOutcome } from './dataset-workflow';
export { tableWorkflow, tableProgressQuery } from './table-workflow';
export type { TableWorkflowInput, TableRunResult, TableProgress } from './table-workflow';
export { datasetQueueWorkflow } from './dataset-queue-workflow';
export type { DatasetQueueInput } from './dataset-queue-workflow';

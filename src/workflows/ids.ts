/** Deterministic, readable workflow IDs: one run per dataset and business date. */
export function datasetWorkflowId(dataset: string, businessDate: string): string {
  return `cdcflow/${dataset}/${businessDate}`;
}

export function tableWorkflowId(dataset: string, businessDate: string, table: string): string {
  return `${datasetWorkflowId(dataset, businessDate)}/${table}`;
}

/** The dataset's long-lived workflow: its queue of runs and dumps. */
export function datasetQueueWorkflowId(dataset: string): string {
  return `cdcflow/${dataset}`;
}

/** A dump's dataset run; its table runs are named below it. */
export function backfillWorkflowId(dataset: string, requestId: string): string {
  return `cdcflow/${dataset}/backfill/${requestId}`;
}

export function backfillTableWorkflowId(dataset: string, requestId: string, table: string): string {
  return `${backfillWorkflowId(dataset, requestId)}/${table}`;
}

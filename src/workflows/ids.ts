/** Deterministic, readable workflow IDs: one run per dataset and business date. */
export function datasetWorkflowId(dataset: string, businessDate: string): string {
  return `cdcflow/${dataset}/${businessDate}`;
}

export function tableWorkflowId(dataset: string, businessDate: string, table: string): string {
  return `${datasetWorkflowId(dataset, businessDate)}/${table}`;
}

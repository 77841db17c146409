/** Readable IDs: a dataset's Schedules, and the runs they start, are found by name in the UI. */
export function scheduleIdPrefix(dataset: string): string {
  return `cdcflow/${dataset}/schedule/`;
}

export function scheduleId(dataset: string, name: string): string {
  return `${scheduleIdPrefix(dataset)}${name}`;
}

/** Temporal appends the scheduled time to this, e.g. `cdcflow/shop/scheduled/daily-2024-01-02T02:00:00Z`. */
export function scheduledWorkflowIdBase(dataset: string, name: string): string {
  return `cdcflow/${dataset}/scheduled/${name}`;
}

/** What a workflow execution was started with, read from the first event of its history. */
import type { Client } from '@temporalio/client';

export async function startInput<T>(client: Client, workflowId: string, runId: string): Promise<T | undefined> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  // cdcflow's clients and workers use the default data converter, with no payload codec.
  return payload ? client.options.loadedDataConverter.payloadConverter.fromPayload<T>(payload) : undefined;
}

/**
 * Custom search attributes that make runs filterable in the Temporal UI. They must be
 * registered on the server (scripts/start-temporal.sh and docker-compose.yml do).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const DATASET_KEY = defineSearchAttributeKey('CdcflowDataset', SearchAttributeType.KEYWORD);
export const TABLE_KEY = defineSearchAttributeKey('CdcflowTable', SearchAttributeType.KEYWORD);
export const BUSINESS_DATE_KEY = defineSearchAttributeKey('CdcflowBusinessDate', SearchAttributeType.KEYWORD);
export const MODE_KEY = defineSearchAttributeKey('CdcflowMode', SearchAttributeType.KEYWORD);

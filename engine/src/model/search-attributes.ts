// The search attributes every run carries. Visibility queries over them give run lists and usage
// telemetry per project, pipeline, version, trigger and actor.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA_PROJECT = defineSearchAttributeKey('TributaryProject', SearchAttributeType.KEYWORD);
export const SA_PIPELINE = defineSearchAttributeKey('TributaryPipeline', SearchAttributeType.KEYWORD);
export const SA_PIPELINE_VERSION = defineSearchAttributeKey(
  'TributaryPipelineVersion',
  SearchAttributeType.KEYWORD,
);
export const SA_TRIGGER = defineSearchAttributeKey('TributaryTrigger', SearchAttributeType.KEYWORD);
export const SA_TRIGGERED_BY = defineSearchAttributeKey('TributaryTriggeredBy', SearchAttributeType.KEYWORD);

/** Set only on runs in a development branch. */
export const SA_BRANCH = defineSearchAttributeKey('TributaryBranch', SearchAttributeType.KEYWORD);

export const TRIBUTARY_SEARCH_ATTRIBUTES = [
  SA_PROJECT,
  SA_PIPELINE,
  SA_PIPELINE_VERSION,
  SA_TRIGGER,
  SA_TRIGGERED_BY,
  SA_BRANCH,
] as const;

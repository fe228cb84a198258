// How runs look in API responses: the runs client's view plus timings and links.
import type { RunDetail, RunSummary } from '../client/runs.js';

export const runLinks = (runId: string) => {
  const self = `/api/runs/${encodeURIComponent(runId)}`;
  return { self, events: `${self}/events`, cancel: `${self}/cancel` };
};

export function runSummaryView(run: RunSummary) {
  return {
    runId: run.runId,
    project: run.project,
    pipelineId: run.pipelineId,
    pipelineVersion: run.pipelineVersion,
    status: run.status,
    trigger: { type: run.trigger, actor: run.triggeredBy },
    branch: run.branch,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    durationMs: run.endedAt ? Date.parse(run.endedAt) - Date.parse(run.startedAt) : null,
    draft: run.draft,
    draftSavedAt: run.draftSavedAt,
    rerunOf: run.rerunOf,
    links: runLinks(run.runId),
  };
}

export function runDetailView(run: RunDetail) {
  return { ...runSummaryView(run), params: run.params, steps: run.progress?.steps ?? {} };
}

export const isFinished = (status: string) => status !== 'running';

// What the runs list shows beside Temporal's visibility record: the pipeline's name, and for a
// failed run which steps failed and the start of the first error. Visibility holds neither, so a
// failed run's detail is read once (its failure never changes) and kept in a bounded cache.
import { RunNotFoundError, type RunDetail, type RunSummary } from '../client/runs.js';
import type { PipelineStore } from '../store/pipelines.store.js';
import { mapLimit } from '../telemetry/usage-report.js';

export const ERROR_EXCERPT_CHARS = 240;

export interface RunFailure {
  failedSteps: string[];
  /** The first failed step's error, cut to ERROR_EXCERPT_CHARS (sensitive params already redacted). */
  errorExcerpt: string | null;
}

export interface RunListFacts {
  pipelineName: string | null;
  failure: RunFailure | null;
}

/** Failures of closed runs by run id; bounded, oldest entries go first. */
export class RunFailureCache {
  private readonly entries = new Map<string, RunFailure>();
  constructor(private readonly capacity = 2000) {}
  get(runId: string) {
    return this.entries.get(runId);
  }
  set(runId: string, failure: RunFailure) {
    this.entries.delete(runId);
    this.entries.set(runId, failure);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

export function excerpt(text: string, max = ERROR_EXCERPT_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

export function failureOf(detail: Pick<RunDetail, 'progress'>): RunFailure {
  const failed = Object.entries(detail.progress?.steps ?? {}).filter(([, s]) => s.status === 'failed');
  const first = failed.find(([, s]) => s.error)?.[1].error;
  return { failedSteps: failed.map(([id]) => id), errorExcerpt: first ? excerpt(first) : null };
}

const READ_CONCURRENCY = 4;

export async function runListFacts(
  deps: { pipelines: Pick<PipelineStore, 'namesOf'>; runs: { get(runId: string): Promise<RunDetail> } },
  runs: RunSummary[],
  cache: RunFailureCache,
): Promise<Map<string, RunListFacts>> {
  const names = await deps.pipelines.namesOf(runs.map((r) => r.pipelineId));
  const failures = await mapLimit(runs, READ_CONCURRENCY, async (run): Promise<RunFailure | null> => {
    if (run.status !== 'failed') return null;
    const cached = cache.get(run.runId);
    if (cached) return cached;
    let detail: RunDetail;
    try {
      detail = await deps.runs.get(run.runId);
    } catch (error) {
      // A run whose history expired (retention) between the list and the read is simply gone.
      if (error instanceof RunNotFoundError) return null;
      throw error;
    }
    const failure = failureOf(detail);
    cache.set(run.runId, failure);
    return failure;
  });
  return new Map(
    runs.map((run, i) => [
      run.runId,
      { pipelineName: names.get(run.pipelineId) ?? null, failure: failures[i]! },
    ]),
  );
}

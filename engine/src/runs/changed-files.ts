// Which steps of a plan read a file of the project's files folder that was written after the step
// ran in an earlier run: a re-run must read it again, not reuse the output of the old file (a
// template's source whose missing file was uploaded, a CSV fixed after a failed run). The files a
// step reads are what its node type's lineage declaration says; other datasets are not looked at.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { NodeCatalog } from '../compiler/compile.js';
import type { ExecutionPlan, StepProgress } from '../model/plan.js';

export async function stepsWithChangedFiles(
  catalog: NodeCatalog,
  dataDir: string | undefined,
  plan: ExecutionPlan,
  earlierSteps: Record<string, StepProgress>,
): Promise<Set<string>> {
  const changed = new Set<string>();
  if (!dataDir) return changed;
  const root = path.resolve(dataDir);
  for (const step of plan.steps) {
    const ranAt = earlierSteps[step.id]?.startedAt;
    const lineage = catalog.get(step.type)?.lineage;
    if (!ranAt || !lineage) continue;
    const reads = lineage(step.config, {
      project: plan.project,
      tableName: () => undefined,
      productTable: () => undefined,
    }).reads;
    for (const dataset of reads ?? []) {
      if (dataset.kind !== 'file') continue;
      const file = path.resolve(root, dataset.name);
      // Only files inside the data folder are looked at (the name is `<project>/<path>`).
      if (!file.startsWith(root + path.sep)) continue;
      const info = await stat(file).catch(() => undefined);
      // Written after the step started reading it: its output is not the file's now. A file that is
      // gone changed nothing a re-run could read better: the kept output is all there is of it.
      if (info && info.mtimeMs > Date.parse(ranAt)) changed.add(step.id);
    }
  }
  return changed;
}

// compile: the engine's compile() over generated graphs of no-op steps, as a chain (every node
// depends on the one before) and wide (every node on one source). No I/O, in-process. The floor
// beside it is a JSON round trip of the same document: the least any compiler must do is read it.
import { compile } from '../../engine/src/compiler/compile.js';
import type { PipelineInput } from '../../engine/src/model/pipeline.schema.js';
import type { Benchmark } from '../lib/bench.js';
import type { Figure } from '../lib/figures.js';
import { interleaved, timed } from '../lib/measure.js';
import { benchCatalog } from '../lib/stack.js';

// The document schema caps a pipeline at 2,000 nodes; 10k shows what the compiler does at five
// times that (it is refused, and the bench says so) once the cap is raised.
const SIZES = [1_000, 2_000, 10_000];

function graph(kind: 'chain' | 'wide', size: number): PipelineInput {
  const ids = Array.from({ length: size }, (_, i) => `s${i}`);
  return {
    apiVersion: 'tributary/v1',
    id: `bench-compile-${kind}`,
    name: `bench compile ${kind}`,
    nodes: ids.map((id, i) => ({ id, type: i === 0 ? 'bench.source' : 'bench.step', config: {} })),
    edges: ids.slice(1).map((id, i) => ({ from: kind === 'chain' ? ids[i]! : ids[0]!, to: id })),
  };
}

export const compileBench: Benchmark = {
  name: 'compile',
  async run() {
    const figures: Figure[] = [];
    const notes: string[] = [];
    for (const size of SIZES) {
      for (const kind of ['chain', 'wide'] as const) {
        const document = graph(kind, size);
        const refused = compile(document, { catalog: benchCatalog });
        if (!refused.ok) {
          notes.push(
            `compile: ${size.toLocaleString('en-US')} nodes (${kind}) skipped: the document is refused (${refused.errors[0]!.message})`,
          );
          continue;
        }
        // A few extra rounds before measuring: one warm-up leaves the first size to V8's baseline tiers.
        for (let i = 0; i < 5; i++) compile(document, { catalog: benchCatalog });
        const { ours, baseline } = await interleaved(
          () => timed(async () => compile(document, { catalog: benchCatalog })),
          () => timed(async () => JSON.parse(JSON.stringify(document)) as unknown),
        );
        figures.push({
          bench: 'compile',
          name: `${size.toLocaleString('en-US')} nodes, ${kind}`,
          unit: 'ms',
          ours,
          baselineName: 'JSON round trip',
          baseline,
          goal: size >= 10_000 ? { kind: 'at-most', value: 200 } : { kind: 'none', note: '≤ 200 ms at 10k' },
        });
      }
    }
    return { figures, notes };
  },
};

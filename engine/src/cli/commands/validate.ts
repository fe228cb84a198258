// `tributary validate`: compiles every local pipeline with the engine's compiler and the connectors'
// schemas, offline. Exit 1 when any has errors, each naming its file, node and field.
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { formatProblem, validateLocal } from '../local-validation.js';
import { listPipelineFolders, readPipelineFolder } from '../pipeline-files.js';
import { readState, statePath } from '../state-file.js';
import { access } from 'node:fs/promises';

export async function validate(options: { dir: string }, out: Output): Promise<ExitCode> {
  // The state is optional here: a folder of hand-written pipelines validates too.
  const hasState = await access(statePath(options.dir)).then(
    () => true,
    () => false,
  );
  const project = hasState ? (await readState(options.dir)).project : undefined;
  const folders = await listPipelineFolders(options.dir);
  const results = [];
  for (const folder of folders) {
    const problems = await validateLocal(await readPipelineFolder(options.dir, folder), project);
    results.push({ id: folder, valid: problems.length === 0, errors: problems });
    if (problems.length === 0) out.say(`ok    ${folder}`);
    else {
      out.say(`FAIL  ${folder}: ${problems.length} error${problems.length === 1 ? '' : 's'}`);
      for (const p of problems) out.say(`      ${formatProblem(p)}`);
    }
  }
  const failed = results.filter((r) => !r.valid).length;
  if (folders.length === 0) out.say(`No pipeline folders (with a pipeline.yaml) in ${options.dir}.`);
  else
    out.say(
      failed
        ? `${failed} of ${folders.length} pipeline${folders.length === 1 ? ' has' : 's have'} errors.`
        : `${folders.length === 1 ? 'The pipeline is' : `All ${folders.length} pipelines are`} valid.`,
    );
  out.result({ valid: failed === 0, pipelines: results });
  return failed ? EXIT.failed : EXIT.ok;
}

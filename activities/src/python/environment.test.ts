import { describe, expect, it } from 'vitest';
import { StepError, TransientError } from '../errors.js';
import { explainBuildFailure, InstallerFailed } from './environment.js';
import { parseRequirements } from './requirements.js';

const INDEX = 'https://pypi.org/simple';

describe('explainBuildFailure', () => {
  it('names a package of ours that the index does not have', () => {
    const error = explainBuildFailure(
      new InstallerFailed(
        '  × No solution found\n  ╰─▶ Because nosuchpkg was not found in the package registry and you require nosuchpkg==1.0',
        1,
      ),
      parseRequirements(['pandas==2.2.3', 'nosuchpkg==1.0'], 'requirements'),
      'requirements',
      INDEX,
    );
    expect(error).toBeInstanceOf(StepError);
    expect(error.message).toBe(
      `config.requirements.1: package "nosuchpkg==1.0" was not found in the package index ${INDEX}`,
    );
  });

  it('names the package whose own dependency pin cannot be met, not the dependency', () => {
    // uv's words for airbyte-source-s3==4.16.1, published depending on smart-open[s3]==4.16.1.
    const output =
      'error: No solution found when resolving dependencies\n' +
      '  cause: Because there is no version of smart-open[s3]==4.16.1 and airbyte-source-s3>=4.16.1 depends on ' +
      'smart-open[s3]==4.16.1, we can conclude that airbyte-source-s3>=4.16.1 cannot be used.\n';
    const error = explainBuildFailure(
      new InstallerFailed(output, 1),
      parseRequirements(['airbyte-source-s3==4.16.1'], 'package'),
      'package',
      INDEX,
    );
    expect(error).toBeInstanceOf(StepError);
    expect(error.message).toBe(
      `config.package.0: "airbyte-source-s3==4.16.1" cannot be installed: it depends on smart-open[s3]==4.16.1, which the package index ${INDEX} does not have`,
    );
  });

  it('retries what is not about the requirements (the index out of reach)', () => {
    const error = explainBuildFailure(
      new InstallerFailed(
        'error: Failed to fetch: `https://pypi.org/simple/pandas/`\n  Caused by: dns error',
        2,
      ),
      parseRequirements(['pandas==2.2.3'], 'requirements'),
      'requirements',
      INDEX,
    );
    expect(error).toBeInstanceOf(TransientError);
  });
});

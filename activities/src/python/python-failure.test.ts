import { describe, expect, it } from 'vitest';
import { StepError, TransientError } from '../errors.js';
import { classifyExit, parseTraceback } from './python-failure.js';
import { environmentKey, parseRequirements } from './requirements.js';

const limits = { cpuSeconds: 10, memoryMb: 100, wallSeconds: 20 };
const exit = (stderr: string, extra: Partial<Parameters<typeof classifyExit>[0]> = {}) => ({
  code: 1,
  signal: null,
  stderr,
  timedOut: false,
  cancelled: false,
  ...extra,
});

const TRACEBACK = `Traceback (most recent call last):
  File "/opt/tributary/transform.py", line 90, in <module>
    main()
  File "/scratch/step.py", line 4, in transform
    return helper(df)
  File "/scratch/step.py", line 2, in helper
    return df["x"]
  File "/env/lib/python3.11/site-packages/pandas/core/frame.py", line 4102, in __getitem__
    indexer = self.columns.get_loc(key)
KeyError: 'x'
`;

describe('parseTraceback', () => {
  it('prefers the last frame of the user file, and keeps the exception line', () => {
    expect(parseTraceback(TRACEBACK, '/scratch/step.py')).toEqual({
      exception: "KeyError: 'x'",
      type: 'KeyError',
      file: '/scratch/step.py',
      line: 2,
      function: 'helper',
    });
  });

  it('falls back to the very last frame without a user file', () => {
    expect(parseTraceback(TRACEBACK)).toMatchObject({ line: 4102, function: '__getitem__' });
  });

  it('reads a syntax error, which has a frame but no function', () => {
    const stderr = `Traceback (most recent call last):\n  File "/opt/t.py", line 3, in <module>\n    x\n  File "/scratch/step.py", line 3\n    return x]\n            ^\nSyntaxError: unmatched ']'\n`;
    expect(parseTraceback(stderr, '/scratch/step.py')).toEqual({
      exception: "SyntaxError: unmatched ']'",
      type: 'SyntaxError',
      file: '/scratch/step.py',
      line: 3,
    });
  });
});

describe('classifyExit', () => {
  it('makes an exception in user code a non-retryable error naming the file and line', () => {
    const error = classifyExit(exit(TRACEBACK), limits, 'the code', '/scratch/step.py', 'code');
    expect(error).toBeInstanceOf(StepError);
    expect(error.message).toBe("the code failed: KeyError: 'x' (code, line 2, in helper)");
  });

  it('retries a dropped connection when the step has network, not when it has none', () => {
    const stderr = `Traceback (most recent call last):\n  File "/x.py", line 1, in f\nrequests.exceptions.ConnectionError: reset\n`;
    expect(classifyExit(exit(stderr), limits, 'x')).toBeInstanceOf(TransientError);
    expect(classifyExit(exit(stderr), limits, 'x', undefined, undefined, false)).toBeInstanceOf(StepError);
  });

  it('names the limit a process ran into', () => {
    expect(classifyExit(exit('', { timedOut: true }), limits, 'x').message).toMatch(
      /wall-time limit of 20 s/,
    );
    expect(classifyExit(exit('', { code: 152 }), limits, 'x').message).toMatch(/CPU-time limit of 10 s/);
    expect(
      classifyExit(
        exit('Traceback (most recent call last):\n  File "/a.py", line 1, in f\nMemoryError\n'),
        limits,
        'x',
      ).message,
    ).toMatch(/memory limit of 100 MB: MemoryError/);
  });
});

describe('parseRequirements', () => {
  it('accepts pinned specifiers and extras, and keys environments independently of order', () => {
    const a = parseRequirements(['pandas==2.2.3', 'airbyte-source-faker[dev] >=6, <7'], 'r');
    const b = parseRequirements(['airbyte-source-faker[dev]>=6,<7', 'pandas==2.2.3'], 'r');
    expect(a.map((r) => r.name)).toEqual(['pandas', 'airbyte-source-faker']);
    expect(environmentKey(a, 'python3', 'x')).toBe(environmentKey(b, 'python3', 'x'));
    expect(environmentKey(a, 'python3', 'x')).not.toBe(environmentKey(a, 'python3', 'y'));
  });

  it('refuses installer options, paths and URLs, naming the entry', () => {
    for (const bad of [
      '-e .',
      '--index-url=http://x',
      './pkg',
      'git+https://x/y',
      'pkg @ https://x',
      'a;b',
    ]) {
      expect(() => parseRequirements(['pandas', bad], 'requirements')).toThrow(
        /config\.requirements\.1: .* is not a package requirement/,
      );
    }
  });

  it('refuses a package listed twice under two spellings', () => {
    expect(() => parseRequirements(['Foo_Bar==1', 'foo-bar==2'], 'r')).toThrow(/listed twice/);
  });
});

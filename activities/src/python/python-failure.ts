// Classifies how a sandboxed Python process ended, once: bad code or bad config (an exception in
// the user's code, a syntax error, a limit it ran into) is not retried and names the traceback's
// frame, file and line; a transient fault (a dropped connection, a timeout talking to a service)
// is retried, exactly as SQL steps' errors are.
import { StepError, TransientError } from '../errors.js';
import type { SandboxExit, SandboxLimits } from './sandbox.js';

export interface TracebackInfo {
  /** `ValueError: bad value`, the traceback's last line. */
  exception: string;
  /** The exception's class name (`ValueError`, `requests.exceptions.ConnectionError`). */
  type: string;
  /** The frame the error is shown at: the last frame in the user's file when there is one. */
  file?: string;
  line?: number;
  function?: string;
}

const FRAME = /^\s*File "([^"]+)", line (\d+)(?:, in (.+))?$/;

/** The last traceback in `stderr`; `userFile` prefers frames in the user's own code. */
export function parseTraceback(stderr: string, userFile?: string): TracebackInfo | undefined {
  const lines = stderr.split('\n').map((l) => l.replace(/\r$/, ''));
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^Traceback \(most recent call last\):/.test(lines[i]!) || FRAME.test(lines[i]!)) {
      start = i;
      if (lines[i]!.startsWith('Traceback')) break;
    }
  }
  if (start < 0) return undefined;
  const frames: { file: string; line: number; function?: string }[] = [];
  let exception = '';
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    const frame = FRAME.exec(line);
    if (frame) {
      frames.push({ file: frame[1]!, line: Number(frame[2]), ...(frame[3] ? { function: frame[3] } : {}) });
      continue;
    }
    // The exception line: unindented, `Name: message` or a bare `Name`.
    if (
      /^[A-Za-z_][\w.]*(:|$)/.test(line) &&
      !line.startsWith('Traceback') &&
      !line.startsWith('During handling')
    ) {
      exception = line;
    }
  }
  if (!exception) return undefined;
  const type = exception.split(':')[0]!.trim();
  const chosen =
    (userFile && [...frames].reverse().find((f) => f.file === userFile)) || frames[frames.length - 1];
  return {
    exception,
    type,
    ...(chosen
      ? { file: chosen.file, line: chosen.line, ...(chosen.function ? { function: chosen.function } : {}) }
      : {}),
  };
}

// Exceptions that a later attempt may not meet: the network and services' hiccups.
const TRANSIENT_TYPES =
  /(^|\.)(ConnectionError|ConnectionResetError|ConnectionRefusedError|ConnectionAbortedError|BrokenPipeError|TimeoutError|Timeout|ReadTimeout|ConnectTimeout|ReadTimeoutError|ConnectTimeoutError|ProtocolError|RemoteDisconnected|IncompleteRead|ChunkedEncodingError|ServiceUnavailable|TooManyRequests|ProxyError)$/;

/** Where a frame's file is shown: the user's file by its name, others as they are. */
function where(info: TracebackInfo, userFile?: string, userLabel?: string): string {
  if (!info.file) return '';
  const file = userFile && info.file === userFile && userLabel ? userLabel : info.file;
  return ` (${file}, line ${info.line}${info.function && info.function !== '<module>' ? `, in ${info.function}` : ''})`;
}

export function classifyExit(
  exit: SandboxExit,
  limits: SandboxLimits,
  what: string,
  userFile?: string,
  userLabel?: string,
  network = true,
): Error {
  if (exit.timedOut) {
    return new StepError(
      `${what} exceeded its wall-time limit of ${limits.wallSeconds} s and was killed`,
      'config',
    );
  }
  const info = parseTraceback(exit.stderr, userFile);
  const cpuKilled =
    exit.signal === 'SIGXCPU' || exit.code === 128 + 24 || /CPU time limit exceeded/.test(exit.stderr);
  if (cpuKilled)
    return new StepError(`${what} exceeded its CPU-time limit of ${limits.cpuSeconds} s`, 'config');
  if (info) {
    if (
      info.type === 'MemoryError' ||
      /Unable to allocate|Cannot allocate memory|std::bad_alloc/.test(info.exception)
    ) {
      return new StepError(
        `${what} exceeded its memory limit of ${limits.memoryMb} MB: ${info.exception}${where(info, userFile, userLabel)}`,
        'config',
      );
    }
    const message = `${what} failed: ${info.exception}${where(info, userFile, userLabel)}`;
    if (!TRANSIENT_TYPES.test(info.type)) return new StepError(message, 'config');
    // Without network no connection can ever succeed: not worth another attempt.
    return network
      ? new TransientError(message)
      : new StepError(`${message}; this step has no network (turn on network to let it connect)`, 'config');
  }
  if (/MemoryError|Cannot allocate memory|bad_alloc|failed to map segment/.test(exit.stderr)) {
    return new StepError(`${what} exceeded its memory limit of ${limits.memoryMb} MB`, 'config');
  }
  const tail = exit.stderr.trim().split('\n').slice(-5).join('\n');
  // Killed by a signal we did not send (the kernel, an OOM killer) may not happen again.
  if (exit.signal)
    return new TransientError(`${what} was killed by ${exit.signal}${tail ? `: ${tail}` : ''}`);
  return new StepError(`${what} exited with code ${exit.code}${tail ? `: ${tail}` : ''}`, 'config');
}

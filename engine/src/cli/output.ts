// Output of a command: lines for a person, or (with --json) one JSON value on stdout for a script.
export interface Output {
  json: boolean;
  /** A line for a person; nothing under --json. */
  say(line?: string): void;
  /** The command's result; printed only under --json. */
  result(value: unknown): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout): Output {
  return {
    json,
    say(line = '') {
      if (!json) stdout.write(`${line}\n`);
    },
    result(value) {
      if (json) stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}

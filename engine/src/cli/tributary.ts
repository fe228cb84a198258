// `tributary`: pipelines as code. Pull a project's pipelines into YAML and SQL files, change them in
// an editor and in git, validate offline, push them back as new versions, and run them.
// Exit codes (see exit-codes.ts and docs/reference/cli.md): 0 ok, 1 failed, 2 usage,
// 3 conflict or refused, 4 auth or connection.
import { Command, CommanderError, Option } from 'commander';
import { ApiError } from './api-client.js';
import { branchUpdate } from './commands/branch-update.js';
import { diff } from './commands/diff.js';
import { login } from './commands/login.js';
import { mcp } from './commands/mcp.js';
import { pull } from './commands/pull.js';
import { push } from './commands/push.js';
import { run } from './commands/run.js';
import { status } from './commands/status.js';
import { validate } from './commands/validate.js';
import { CliError, EXIT, type ExitCode } from './exit-codes.js';
import { createOutput, type Output } from './output.js';
import { readFileSync } from 'node:fs';

// Read here rather than from platform.ts, whose imports would slow every command down.
const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

type Action<T> = (options: T, out: Output) => Promise<ExitCode>;

function program(setExit: (code: ExitCode) => void): Command {
  const root = new Command('tributary')
    .description('Tributary pipelines as code: pull, diff, validate, push and run pipelines from files')
    .version(VERSION)
    .option('--json', 'print one JSON value on stdout, for scripts')
    .showHelpAfterError('(tributary --help lists the commands; tributary <command> --help their options)')
    .exitOverride();
  const act =
    <T>(action: Action<T>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const out = createOutput(Boolean(root.opts().json));
      try {
        setExit(await action({ ...(command.opts() as object), ...namedArgs(command) } as T, out));
      } catch (error) {
        setExit(report(error, out));
      }
    };
  const dir = () => new Option('-d, --dir <dir>', 'the pulled folder').default('.');
  const branch = () =>
    new Option('-b, --branch <name>', 'a development branch (see docs/concepts/branches.md)');

  root
    .command('login')
    .description('check a server URL and token, and save them (TRIBUTARY_URL / TRIBUTARY_TOKEN override)')
    .requiredOption('--url <url>', 'the server, e.g. http://localhost:3000')
    .requiredOption('--token <token>', 'an API token (POST /api/tokens)')
    .action(act(login));
  root
    .command('pull')
    .description("write a project's pipelines into one folder each (pipeline.yaml + <node>.sql)")
    .requiredOption('-p, --project <project>', 'the project')
    .addOption(dir())
    .addOption(branch())
    .option('--force', 'overwrite local changes that were not pushed')
    .action(act(pull));
  root
    .command('status')
    .description('each pipeline: changed locally, changed on the server, or up to date')
    .addOption(dir())
    .addOption(branch())
    .action(act(status));
  root
    .command('diff')
    .description("the local files against the server's current version: a summary and a unified diff")
    .argument('[pipeline]', 'one pipeline (default: all that differ)')
    .addOption(dir())
    .addOption(branch())
    .action(act(diff));
  root
    .command('validate')
    .description("compile the local pipelines with the engine's compiler, offline; exit 1 on errors")
    .addOption(dir())
    .action(act(validate));
  root
    .command('push')
    .description(
      'save changed pipelines as new versions and create new ones; refuses over changes made on the server',
    )
    .argument('[pipeline]', 'one pipeline (default: all that changed)')
    .addOption(dir())
    .addOption(branch())
    .option(
      '--force',
      'save even over versions saved on the server since the pull (they stay in the history)',
    )
    .action(act(push));
  root
    .command('run')
    .description("start a run of the server's current version")
    .argument('<pipeline>', 'the pipeline id')
    .option('--param <name=value>', 'a run param (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('-w, --wait', 'follow the run, a line per step; exit 0 only if it succeeded')
    .option('--dir <dir>', "a pulled folder: a folder pulled from a branch runs the branch's copy", '.')
    .addOption(branch())
    .action(act(run));
  const repeat = (v: string, all: string[]) => [...all, v];
  root
    .command('branch')
    .description('development branches (see docs/concepts/branches.md)')
    .command('update')
    .description(
      "bring a branch up to date with main: pipelines it did not change take main's latest version",
    )
    .argument('[name]', 'the branch (default: the one the folder was pulled from)')
    .option('-p, --project <project>', "the branch's project (default: the folder's)")
    .addOption(dir())
    .option(
      '--keep-branch <pipeline>',
      "changed on both sides: keep the branch's version (repeatable)",
      repeat,
      [],
    )
    .option('--take-main <pipeline>', "changed on both sides: take main's version (repeatable)", repeat, [])
    .action(act(branchUpdate));
  root
    .command('mcp')
    .description('an MCP server on stdin/stdout for AI agents, acting with the logged-in token')
    .action(act(mcp));
  return root;
}

/** The command's arguments by name: `diff [pipeline]` gives `{ pipeline }`. */
function namedArgs(command: Command): Record<string, unknown> {
  return Object.fromEntries(
    command.registeredArguments
      .map((a, i) => [a.name(), command.processedArgs[i]] as const)
      .filter(([, v]) => v !== undefined),
  );
}

function report(error: unknown, out: Output): ExitCode {
  const code = error instanceof CliError ? error.code : EXIT.failed;
  const message =
    error instanceof CliError || error instanceof ApiError
      ? error.message
      : `Unexpected error: ${(error as Error)?.stack ?? String(error)}`;
  if (out.json)
    out.result({ error: { message, exitCode: code, ...(error instanceof CliError ? error.details : {}) } });
  else process.stderr.write(`${message}\n`);
  return code;
}

async function main(): Promise<void> {
  let exit: ExitCode = EXIT.ok;
  try {
    await program((code) => (exit = code)).parseAsync(process.argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help and --version are not errors; every other complaint of the parser is a usage error.
    exit = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  process.exitCode = exit;
}

await main();

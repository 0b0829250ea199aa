// The one error path of the command: every failure becomes one line
// `rho-slm: <command>: <what> [CODE]` and an exit status (1; 2 for usage; 130 when interrupted).
import { CommanderError } from 'commander';
import { SLMError } from '../core/errors.js';

/** What the command prints for a failure and the status it exits with. */
export interface Failure {
  /** One line (plus the stack with `--verbose`), ending in a newline. */
  text: string;
  /** 1 for failures, 2 for usage errors, 130 when interrupted, 0 for `--help`/`--version`. */
  exitCode: number;
}

/** `error: x` → `x`; `prepare: x` → `x` when the command is `prepare`; one line. */
function clean(message: string, command: string): string {
  const line = message
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  return line.startsWith(`${command}: `) ? line.slice(command.length + 2) : line;
}

/** Node's system errors (`ENOENT: no such file or directory, open 'x'`) have a code like `ENOENT`. */
function systemCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * The line and exit status for `error`, thrown while running `command`.
 *
 * @param error - what was thrown
 * @param command - the command's name, e.g. `train` or `score merge`
 * @param verbose - append the stack
 */
export function describeFailure(error: unknown, command: string, verbose: boolean): Failure {
  const prefix = command === '' ? 'rho-slm' : `rho-slm: ${command}`;
  const stack = verbose && error instanceof Error && error.stack !== undefined ? `${error.stack}\n` : '';
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return { text: '', exitCode: 0 };
    const help = command === '' ? 'rho-slm --help' : `rho-slm ${command} --help`;
    return { text: `${prefix}: ${clean(error.message, command)} (see ${help}) [USAGE]\n`, exitCode: 2 };
  }
  if (error instanceof SLMError) {
    return {
      text: `${prefix}: ${clean(error.message, command)} [${error.code}]\n${stack}`,
      exitCode: error.code === 'INTERRUPTED' ? 130 : 1,
    };
  }
  const code = systemCode(error);
  if (code !== undefined) {
    const message = clean((error as Error).message, command).replace(new RegExp(`^${code}: `), '');
    return { text: `${prefix}: ${message} [${code}]\n${stack}`, exitCode: 1 };
  }
  return {
    text: `${prefix}: ${clean(String(error), command)}; this is a bug, please report it with the output of --verbose [INTERNAL]\n${stack}`,
    exitCode: 1,
  };
}

// Where an experiment ran: the commit, the machine and the backend, recorded in its report so that
// every quoted number says what produced it.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/** The commit, CPU model, core count and tfjs backend of a run. */
export interface RunEnvironment {
  /** `git rev-parse HEAD`, with `+dirty` when `src/` has uncommitted changes; `unknown` outside a clone. */
  commit: string;
  cpu: string;
  cores: number;
  backend: string;
}

/** The commit of the working tree, `+dirty` when `src/` has uncommitted changes, or `unknown`. */
export function currentCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: 'pipe' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], {
      encoding: 'utf8',
      stdio: 'pipe',
    }).trim();
    return dirty === '' ? head : `${head}+dirty`;
  } catch {
    return 'unknown';
  }
}

/** The environment of a run on `backend`. */
export function runEnvironment(backend: string): RunEnvironment {
  return { commit: currentCommit(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, backend };
}

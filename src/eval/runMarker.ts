// Ending every process an unsandboxed program started: each run's processes carry a marker in
// their environment (inherited by whatever they start), and after the run every process on this
// machine that carries it is killed. Best effort, Linux only: a program that clears its
// environment escapes it, which is why the sandbox, not this, is the default.
import { readdirSync, readFileSync } from 'node:fs';

/** Name of the environment variable that marks a run's processes. */
export const RUN_MARKER = 'RHO_SLM_PYTHON_RUN';

/** Kills every process whose environment holds `RUN_MARKER=marker`; returns how many it found. */
export function killMarkedProcesses(marker: string): number {
  const needle = Buffer.from(`${RUN_MARKER}=${marker}\0`);
  let found = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0; // no /proc (macOS, Windows): nothing to scan
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`).includes(needle)) continue;
      found++;
      process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

// The `rho-slm` executable: runs the command line and exits with its status. Where TensorFlow may
// load, it runs as a child of itself: its stderr filtered of TensorFlow's start-up lines, and its
// environment carrying `--low-memory`'s allocator settings.
import { adoptParentTerminal, childPlan, runAsChild } from './nativeLog.js';
import { main } from './program.js';

const argv = process.argv.slice(2);
const plan = childPlan(argv, process.env, process.platform);
if (plan !== undefined) process.exitCode = await runAsChild(argv, plan);
else {
  adoptParentTerminal();
  process.exitCode = await main(argv);
}

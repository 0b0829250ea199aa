// The `rho-slm` executable: runs the command line and exits with its status. Where TensorFlow may
// load, it runs as a child of itself whose stderr is filtered of TensorFlow's start-up lines.
import { adoptParentTerminal, runFilteredChild, wantsFilteredChild } from './nativeLog.js';
import { main } from './program.js';

const argv = process.argv.slice(2);
if (wantsFilteredChild(argv, process.env, process.platform)) process.exitCode = await runFilteredChild(argv);
else {
  adoptParentTerminal();
  process.exitCode = await main(argv);
}

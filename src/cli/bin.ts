// The `rho-slm` executable: runs the command line and exits with its status.
import { main } from './program.js';

process.exitCode = await main(process.argv.slice(2));

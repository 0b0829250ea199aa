// The `rho-slm` command. It only parses arguments and calls library code; the pipeline
// subcommands (prepare, train, score, eval, inspect, demo) are added as src/pipeline/ lands.
import { version } from '../../package.json';

const usage = `rho-slm ${version}: Selective Language Modeling (Rho-1)

Usage:
  rho-slm --version     print the version
  rho-slm --help        print this help

The library API is available now: import { selectiveLoss, excessLoss, topKMask } from 'rho-slm'.
The pipeline commands (prepare, train, score, eval, inspect, demo) are not implemented yet.`;

/** Runs the command line `argv` (without node and script) and returns the exit code. */
export function main(argv: readonly string[]): number {
  const [command] = argv;
  if (command === '--version' || command === '-v') {
    console.log(version);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(usage);
    return 0;
  }
  console.error(`rho-slm: unknown command '${command}'.\n\n${usage}`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));

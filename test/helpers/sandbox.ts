// Whether the tests that run model-written programs can run: they need bubblewrap (the sandbox
// runPython refuses to run without). Where it is missing they are skipped, loudly; with
// RHO_SLM_TEST_SANDBOX=1 (CI, which installs bubblewrap) they run whatever happens, and fail.
import { checkPythonSandbox } from '../../src/eval/index.js';

const unavailable = await checkPythonSandbox().then(
  () => undefined,
  (error: Error) => error.message,
);

if (unavailable !== undefined && process.env.RHO_SLM_TEST_SANDBOX !== '1')
  console.error(`\n!!! tests that run Python programs are SKIPPED: ${unavailable.split('\n')[0]}\n`);

/** Run the sandboxed-program tests: bubblewrap works here, or CI asks for them. */
export const runSandboxTests = unavailable === undefined || process.env.RHO_SLM_TEST_SANDBOX === '1';

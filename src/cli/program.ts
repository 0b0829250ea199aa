// The `rho-slm` command as an importable program: parses arguments and calls src/pipeline. Long
// steps show progress, stop cleanly on Ctrl-C (with their checkpoint or partial file intact), and
// print JSON with --json. Every failure is one line `rho-slm: <command>: <what> [CODE]` (see
// failure.ts); bin.ts runs it as the executable.
import { writeFile } from 'node:fs/promises';
import { Command, Help, InvalidArgumentError, type Option } from 'commander';
import { version } from '../../package.json';
import { SLMError } from '../core/errors.js';
import { SELECTION_STRATEGIES, type SelectionStrategy } from '../core/selectionScores.js';
import { DEFAULT_RATIO } from '../core/selectionSettings.js';
import type { Tokenizer } from '../data/byteTokenizer.js';
import type { AnswerStyle } from '../eval/extract.js';
import type { LlamaConfig, LlamaPresetName } from '../model/config.js';
import type { NormalSampler } from '../model/normalStreams.js';
import type { MathTask } from '../pipeline/mathTask.js';
import type { BackendName } from '../tfjs/backend.js';
import { describeFailure } from './failure.js';
import { createProgress, createStagedProgress } from './progress.js';

/** Where the program writes: results to `stdout`, messages and errors to `stderr`. */
export interface CliOutput {
  /** Results (text or JSON). */
  stdout: (text: string) => void;
  /** Backend notes, progress lines and errors. */
  stderr: (text: string) => void;
}

const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** The pipeline, loaded on first use so `--help` and `--version` work without tfjs installed. */
async function pipeline() {
  try {
    const [pipelineModule, { mergeScoreParts }, { useBackend }, { loadHuggingFaceTokenizer }, render] =
      await Promise.all([
        import('../pipeline/index.js'),
        import('../data/scoreFile.js'),
        import('../tfjs/backend.js'),
        import('../data/huggingFaceTokenizer.js'),
        import('../pipeline/renderTokens.js'),
      ]);
    return { ...pipelineModule, ...render, mergeScoreParts, useBackend, loadHuggingFaceTokenizer };
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new SLMError(
        'BACKEND_UNAVAILABLE',
        `this command needs tfjs: npm install @tensorflow/tfjs @tensorflow/tfjs-backend-wasm (${(error as Error).message.split('\n')[0]})`,
      );
    }
    throw error;
  }
}

const integer = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
};
const number = (value: string) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new InvalidArgumentError('expected a number');
  return parsed;
};
const shard = (value: string) => {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  if (match === null) throw new InvalidArgumentError('expected i/n, e.g. 0/4');
  return { index: Number(match[1]), count: Number(match[2]) };
};

/** SIGINTs closer than this are one key press (a terminal's and the one a relaunching parent passes on). */
const ONE_PRESS_MS = 300;

/** Runs `run` with a signal that Ctrl-C aborts once (stop after the current step); twice exits now. */
async function withInterrupt<T>(output: CliOutput, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let pressedAt = 0;
  const press = () => {
    if (controller.signal.aborted) {
      if (Date.now() - pressedAt > ONE_PRESS_MS) process.exit(130);
      return;
    }
    pressedAt = Date.now();
    output.stderr('\nstopping after the current step (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', press);
  try {
    return await run(controller.signal);
  } finally {
    process.removeListener('SIGINT', press);
  }
}

async function modelConfig(value: string): Promise<LlamaPresetName | LlamaConfig> {
  if (!value.endsWith('.json')) return value as LlamaPresetName;
  const { readJsonBounded } = await import('../io/boundedRead.js');
  return (await readJsonBounded(value, 16 << 20, 'BAD_CONFIG')) as LlamaConfig;
}

/** `byte` → undefined (the pipeline's default byte tokenizer); a path → that tokenizer.json. */
async function loadTokenizer(value: string): Promise<Tokenizer | undefined> {
  if (value === 'byte') return undefined;
  const { loadHuggingFaceTokenizer } = await import('../data/huggingFaceTokenizer.js');
  return loadHuggingFaceTokenizer(value);
}

const TOKENIZER_FLAGS = '--tokenizer <byte|tokenizer.json>';
const TOKENIZER_HELP = 'the byte tokenizer, or a Hugging Face tokenizer.json';

/** `1 document`, `2 documents`. */
function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Option help with `(required)` after the options a command cannot run without. */
function requiredMarked(this: Help, option: Option): string {
  const description = Help.prototype.optionDescription.call(this, option);
  return option.mandatory ? `${description} (required)` : description;
}

/**
 * The command-line program (commander), writing to `output`. Errors are thrown, not printed:
 * {@link main} turns them into one line and an exit status.
 *
 * @param output - where results and messages go @default the process's stdout and stderr
 */
export function program(output: CliOutput = processOutput): Command {
  const cli = new Command('rho-slm')
    .description(
      'Selective Language Modeling (Rho-1): prepare, train a reference model, score, train selectively, evaluate',
    )
    .version(version)
    .option('--backend <name>', 'tfjs backend: auto, tensorflow, webgpu, wasm or cpu', 'auto')
    .option('--verbose', 'print the stack of an error')
    .configureHelp({ optionDescription: requiredMarked }) // before .command(): subcommands copy it
    .exitOverride()
    .configureOutput({ writeOut: output.stdout, writeErr: output.stderr, outputError: () => undefined });

  const print = (json: boolean, result: object, text: string) =>
    output.stdout(json ? `${JSON.stringify(result)}\n` : `${text}\n`);
  /**
   * Loads the backend after checking the command's input paths, so that a missing input fails
   * before TensorFlow starts (and prints its start-up lines).
   */
  const backend = async (inputs: { files?: Record<string, string | undefined>; model?: string } = {}) => {
    const { access } = await import('node:fs/promises');
    const { join } = await import('node:path');
    for (const [flag, path] of Object.entries(inputs.files ?? {}))
      if (path !== undefined)
        await access(path).catch(() => {
          throw new SLMError('BAD_FILE', `--${flag} ${path}: no such file or directory`);
        });
    if (inputs.model !== undefined)
      await access(join(inputs.model, 'config.json')).catch(() => {
        throw new SLMError(
          'BAD_CHECKPOINT',
          `${join(inputs.model!, 'config.json')} does not exist: ${inputs.model} is not a model directory (no config.json).`,
        );
      });
    const { useBackend } = await pipeline();
    const { backend: chosen } = await useBackend(cli.opts().backend as 'auto' | BackendName);
    output.stderr(`backend: ${chosen}\n`);
  };

  cli
    .command('prepare')
    .description('tokenize text files, folders and JSONL into a token file')
    .argument('<inputs...>', 'text files, .jsonl files or folders')
    .requiredOption('--out <file>', 'token file to write')
    .option('--field <name>', 'JSONL field holding the text', 'text')
    .option(TOKENIZER_FLAGS, TOKENIZER_HELP, 'byte')
    .option('--force', 'replace --out if it exists')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        inputs: string[],
        options: { out: string; field: string; tokenizer: string; force?: boolean; json?: boolean },
      ) => {
        const info = await withInterrupt(output, async (signal) => {
          // Tokenising needs no tensors: this command runs without tfjs installed.
          const { prepareCorpus } = await import('../pipeline/prepare.js');
          const tokenizer = await loadTokenizer(options.tokenizer);
          return prepareCorpus({
            inputs,
            out: options.out,
            field: options.field,
            ...(tokenizer === undefined ? {} : { tokenizer }),
            force: options.force === true,
            signal,
            onProgress: (bytes, documents) => {
              if (documents % 100 === 0)
                output.stderr(`prepare: ${documents} documents, ${(bytes / 1e6).toFixed(1)} MB\n`);
            },
          });
        });
        print(
          options.json === true,
          info,
          `wrote ${options.out}: ${counted(info.tokenCount, 'token')} in ${counted(info.documentCount, 'document')}`,
        );
      },
    );

  cli
    .command('train')
    .description('train a model: plain causal LM (reference model), or selective with --scores')
    .requiredOption('--data <file>', 'token file')
    .requiredOption('--out <dir>', 'output directory (model, checkpoints, metrics.jsonl)')
    .option(
      '--config <preset|file.json>',
      'model preset (nano, demo, tinyllama-1.1b) or config.json (default: demo)',
    )
    .option(
      '--init <dir>',
      'start from this model (a Hugging Face directory, e.g. TinyLlama-1.1B) instead of random weights',
    )
    .option(
      '--sampler <name>',
      "how --config's random weights are drawn: tfjs (tf.randomNormal's numbers, the same model for a seed in every version; default) or ziggurat (several times faster: TinyLlama-1.1B in about 7 s instead of 15-22; other numbers)",
    )
    .option(
      '--recompute-activations',
      'recompute activations in the backward pass: less memory, one more forward a step',
    )
    .option(
      '--low-memory',
      "tensorflow backend: TensorFlow's system allocator and glibc's low-memory settings for the process (TinyLlama-1.1B below PyTorch's memory, at 0.8x its speed)",
    )
    .option('--steps <n>', 'optimizer steps', integer, 200)
    .option('--batch <n>', 'windows per step', integer, 8)
    .option('--seq-len <n>', 'window length', integer)
    .option('--lr <rate>', 'peak learning rate', number, 3e-3)
    .option('--seed <n>', 'seed of weights and window order', number, 0)
    .option('--scores <file>', 'reference scores: train selectively')
    .option('--ratio <r>', 'fraction of tokens selected', number, DEFAULT_RATIO)
    .option('--scope <scope>', 'batch or sequence', 'batch')
    .option('--strategy <name>', `one of ${SELECTION_STRATEGIES.join(', ')}`, 'excess')
    .option('--checkpoint-every <n>', 'steps between checkpoints', integer, 50)
    .option('--resume', 'continue from the last checkpoint in --out')
    .option('--force', 'start over in an --out that holds an earlier run')
    .option('--json', 'print the result as JSON')
    .action(async (options) => {
      const progress = createProgress('train', options.steps, 'steps');
      const result = await withInterrupt(output, async (signal) => {
        if (options.init !== undefined && options.config !== undefined)
          cli.error('train takes --init (a model to start from) or --config (random weights), not both');
        if (options.sampler !== undefined && !['tfjs', 'ziggurat'].includes(options.sampler))
          cli.error(`--sampler must be tfjs or ziggurat, got '${options.sampler}'`);
        if (options.sampler !== undefined && options.init !== undefined)
          cli.error('--sampler draws random weights (--config); --init starts from a saved model');
        await backend({ files: { data: options.data, scores: options.scores }, model: options.init });
        const { trainModel } = await pipeline();
        return trainModel({
          data: options.data,
          out: options.out,
          ...(options.init === undefined
            ? { config: await modelConfig(options.config ?? 'demo') }
            : { init: options.init }),
          ...(options.sampler === undefined ? {} : { sampler: options.sampler as NormalSampler }),
          recomputeActivations: options.recomputeActivations === true,
          steps: options.steps,
          batchSize: options.batch,
          ...(options.seqLen === undefined ? {} : { seqLen: options.seqLen }),
          learningRate: options.lr,
          seed: options.seed,
          ...(options.scores === undefined ? {} : { scores: options.scores }),
          selection: {
            ratio: options.ratio,
            scope: options.scope,
            strategy: options.strategy as SelectionStrategy,
          },
          checkpointEvery: options.checkpointEvery,
          resume: options.resume === true,
          force: options.force === true,
          signal,
          onStep: (stats) => progress.update(stats.step, { loss: stats.loss.toFixed(3) }),
        });
      }).finally(() => progress.stop());
      print(
        options.json === true,
        result,
        `${result.complete ? 'trained' : 'stopped at'} step ${result.step}; model in ${options.out}`,
      );
    });

  const score = cli
    .command('score')
    .description('score a token file with the reference model (one loss per target position)')
    .option('--model <dir>', 'reference model directory')
    .option('--data <file>', 'token file')
    .option('--out <file>', 'score file (or part) to write')
    .option('--shard <i/n>', 'score shard i of n', shard)
    .option('--batch <n>', 'windows per forward pass', integer, 8)
    .option('--seq-len <n>', 'window length', integer)
    .option('--dtype <type>', 'float32 or float16', 'float32')
    .option('--resume', 'continue an interrupted run')
    .option('--force', 'replace --out (and an interrupted run of it)')
    .option('--json', 'print the result as JSON')
    .action(async (options) => {
      for (const required of ['model', 'data', 'out']) {
        if (options[required] === undefined) cli.error(`required option '--${required}' not specified`);
      }
      let progress: ReturnType<typeof createProgress> | undefined;
      const info = await withInterrupt(output, async (signal) => {
        await backend({ files: { data: options.data }, model: options.model });
        const { scoreCorpus } = await pipeline();
        return scoreCorpus({
          model: options.model,
          data: options.data,
          out: options.out,
          batchSize: options.batch,
          ...(options.seqLen === undefined ? {} : { seqLen: options.seqLen }),
          ...(options.shard === undefined ? {} : { shard: options.shard }),
          dtype: options.dtype,
          metrics: `${options.out}.metrics.jsonl`,
          resume: options.resume === true,
          force: options.force === true,
          signal,
          onProgress: (done, total) => {
            progress ??= createProgress('score', total, 'windows');
            progress.update(done);
          },
        });
      }).finally(() => progress?.stop());
      if (info === undefined)
        print(options.json === true, { stopped: true }, 'stopped; resume with --resume');
      else
        print(
          options.json === true,
          info,
          `wrote ${options.out}: ${info.partWindows} windows of ${info.seqLen}`,
        );
    });
  score
    .command('merge')
    .description('join score parts (shards) into one verified file')
    .argument('<parts...>', 'score parts')
    .requiredOption('--out <file>', 'merged score file')
    .option('--json', 'print the result as JSON')
    .action(async (parts: string[], options: { out: string; json?: boolean }) => {
      const { mergeScoreParts } = await pipeline();
      const info = await mergeScoreParts(parts, options.out);
      print(
        options.json === true,
        info,
        `merged ${parts.length} parts into ${options.out}: ${info.windowCount} windows`,
      );
    });

  cli
    .command('eval')
    .description('held-out loss, perplexity and bits per byte (--data), or few-shot math accuracy (--task)')
    .option('--model <dir>', 'model directory (not needed with --grade)')
    .option('--data <file>', 'held-out token file (loss) or a JSONL problem file (with --task)')
    .option('--format <name>', 'math prompt format: cot, tora or pal (tora and pal run python3)', 'cot')
    .option(
      '--unsafe-no-sandbox',
      'tora/pal: run model-written programs without the bubblewrap sandbox (they can read your files and use the network)',
    )
    .option('--grading <mode>', "answer grading: 'harness' (as published) or 'strict'", 'harness')
    .option('--grade <outputs>', 're-grade saved completions (JSONL) without a model; verdicts to --out')
    .option(
      '--task <name>',
      'few-shot chain-of-thought math: gsm8k, math, or arithmetic (synthetic, bundled)',
    )
    .option('--shots <file>', 'JSONL of worked examples for the prompt (same layout as the task)')
    .option('--num-shots <n>', 'worked examples in the prompt', integer, 4)
    .option('--limit <n>', 'evaluate only the first problems', integer)
    .option('--max-new-tokens <n>', 'tokens generated per problem', integer, 256)
    .option('--out <file>', 'per-problem results as JSONL')
    .option('--seq-len <n>', 'window length (loss)', integer)
    .option(TOKENIZER_FLAGS, `${TOKENIZER_HELP} (the one --data was prepared with)`, 'byte')
    .option('--json', 'print the result as JSON')
    .action(async (options) => {
      const task = options.task as MathTask | undefined;
      if (options.grade !== undefined) {
        if (task !== 'gsm8k' && task !== 'math') cli.error("--grade needs '--task gsm8k' or '--task math'");
        const { regradeOutputs } = await import('../eval/index.js');
        const out = options.out ?? `${options.grade}.verdicts.jsonl`;
        const { items: _items, ...summary } = await regradeOutputs(options.grade, {
          style: task as AnswerStyle,
          grading: options.grading,
          out,
        });
        const harness =
          summary.withHarnessVerdict === 0
            ? ''
            : ` · harness ${(100 * summary.harnessAccuracy).toFixed(1)}%, same verdict on ${(100 * summary.agreement).toFixed(1)}% of ${summary.withHarnessVerdict}`;
        print(
          options.json === true,
          { ...summary, out },
          `${task}: accuracy ${(100 * summary.accuracy).toFixed(1)}% (${summary.correct}/${summary.total})${harness}; verdicts in ${out}`,
        );
        return;
      }
      if (options.model === undefined) cli.error("eval needs '--model <dir>' (or '--grade <outputs>')");
      if (task === undefined && options.data === undefined)
        cli.error("eval needs '--data <file>' (or '--task')");
      if (task !== undefined && !['gsm8k', 'math', 'arithmetic'].includes(task))
        cli.error(`unknown task '${task}' (gsm8k, math, arithmetic)`);
      if (task !== undefined && task !== 'arithmetic' && options.data === undefined)
        cli.error(`--task ${task} needs '--data <file.jsonl>'`);
      await backend({ files: { data: options.data }, model: options.model });
      const { evaluateModel, evaluateMathTask } = await pipeline();
      const tokenizer = await loadTokenizer(options.tokenizer);
      if (task === undefined) {
        const result = await evaluateModel({
          model: options.model,
          data: options.data,
          ...(options.seqLen === undefined ? {} : { seqLen: options.seqLen }),
          ...(tokenizer === undefined ? {} : { tokenizer }),
        });
        print(
          options.json === true,
          result,
          `loss ${result.loss.toFixed(4)} nats · perplexity ${result.perplexity.toFixed(2)} · ${result.bitsPerByte.toFixed(3)} bits/byte over ${result.tokens} tokens`,
        );
        return;
      }
      let progress: ReturnType<typeof createProgress> | undefined;
      const result = await evaluateMathTask({
        model: options.model,
        task,
        format: options.format,
        grading: options.grading,
        ...(options.unsafeNoSandbox === true ? { python: { sandbox: 'none' as const } } : {}),
        ...(options.data === undefined ? {} : { data: options.data }),
        ...(options.shots === undefined ? {} : { shots: options.shots }),
        numShots: options.numShots,
        maxNewTokens: options.maxNewTokens,
        ...(options.limit === undefined ? {} : { limit: options.limit }),
        ...(options.out === undefined ? {} : { out: options.out }),
        ...(tokenizer === undefined ? {} : { tokenizer }),
        onProgress: (done, total) => {
          progress ??= createProgress(`eval ${task}`, total, 'problems');
          progress.update(done);
        },
      }).finally(() => progress?.stop());
      const { examples: _examples, ...summary } = result;
      print(
        options.json === true,
        summary,
        `${task}: accuracy ${(100 * result.accuracy).toFixed(1)}% (${result.correct}/${result.total})`,
      );
    });

  cli
    .command('demo')
    .description('the main job: reference model, scores, then CLM vs SLM on real text, with a report')
    .option('--quick', 'small sizes, same code path (wall times: README)')
    .option('--out <dir>', 'report directory', 'demo-report')
    .option('--json', 'print the results as JSON')
    .action(async (options: { quick?: boolean; out: string; json?: boolean }) => {
      (await import('../experiments/demo/requirements.js')).checkDemoPackages();
      await backend();
      const { DEMO_SETTINGS, runDemo } = await import('../experiments/demo/run.js');
      const { terminalSummary, writeDemoReport } = await import('../experiments/demo/report.js');
      const progress = createStagedProgress('steps');
      const result = await runDemo(
        DEMO_SETTINGS[options.quick === true ? 'quick' : 'default'],
        progress.report,
      );
      progress.stop();
      const report = await writeDemoReport(result, options.out);
      print(options.json === true, result, `${terminalSummary(result)}\nreport: ${report}`);
    });

  cli
    .command('study')
    .description(
      'the evidence: SLM against CLM, the reference model, an oracle filter and selection controls, at two noise levels over seeds (study.json, study.html)',
    )
    .option('--quick', 'tiny sizes (CI: the whole code path in about a minute)')
    .option('--seeds <n>', 'at most n seeds in each group of runs', integer)
    .option('--levels <shares>', 'e-mail shares to run, comma-separated (default: all, e.g. 0.8,0.5)')
    .option('--out <dir>', 'report directory; finished runs are kept in <dir>/runs', 'study-report')
    .option('--resume', 'continue a study in --out, reusing its finished runs')
    .option('--finished-only', 'train nothing: report the runs already finished in --out')
    .option('--json', 'print study.json to stdout')
    .action(
      async (options: {
        quick?: boolean;
        seeds?: number;
        levels?: string;
        out: string;
        resume?: boolean;
        finishedOnly?: boolean;
        json?: boolean;
      }) => {
        (await import('../experiments/demo/requirements.js')).checkDemoPackages();
        const { studySettingsFor } = await import('../experiments/study/settings.js');
        const settings = studySettingsFor(options.quick === true ? 'quick' : 'default', {
          ...(options.seeds === undefined ? {} : { seeds: options.seeds }),
          ...(options.levels === undefined ? {} : { levels: options.levels.split(',').map(Number) }),
        });
        const { existsSync } = await import('node:fs');
        const { join } = await import('node:path');
        if (options.resume !== true && options.finishedOnly !== true && existsSync(join(options.out, 'runs')))
          throw new SLMError(
            'OUTPUT_EXISTS',
            `${options.out} already holds a study's runs: continue it with --resume, or choose another --out`,
          );
        await backend();
        const { runStudy } = await import('../experiments/study/run.js');
        const { studySummaryText, writeStudyReport } = await import('../experiments/study/report.js');
        const { getBackend } = await import('@tensorflow/tfjs');
        const progress = createStagedProgress('steps');
        const result = await runStudy(settings, {
          out: options.out,
          backend: getBackend(),
          onProgress: progress.report,
          finishedOnly: options.finishedOnly === true,
        });
        progress.stop();
        const command = [
          'rho-slm study',
          options.quick === true ? '--quick' : '',
          options.seeds === undefined ? '' : `--seeds ${options.seeds}`,
          options.levels === undefined ? '' : `--levels ${options.levels}`,
        ]
          .filter((part) => part !== '')
          .join(' ');
        const report = await writeStudyReport(result, options.out, command);
        print(options.json === true, result, `${studySummaryText(result)}\nreport: ${report}`);
      },
    );

  cli
    .command('inspect')
    .description("a window's tokens coloured by excess loss, selected ones marked (Rho-1 Figure 2)")
    .requiredOption('--model <dir>', 'the model being trained')
    .requiredOption('--data <file>', 'token file')
    .requiredOption('--scores <file>', 'reference scores of the token file')
    .requiredOption('--window <n>', 'window index', (value: string) => {
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected an integer ≥ 0');
      return parsed;
    })
    .option('--ratio <r>', 'selection ratio', number, DEFAULT_RATIO)
    .option(TOKENIZER_FLAGS, `${TOKENIZER_HELP} (the one --data was prepared with)`, 'byte')
    .option('--html <file>', 'write a self-contained HTML page instead')
    .option('--json', 'print the tokens as JSON')
    .action(async (options) => {
      await backend({ files: { data: options.data, scores: options.scores }, model: options.model });
      const { inspectWindow, renderHtml, renderTerminal } = await pipeline();
      const tokenizer = await loadTokenizer(options.tokenizer);
      const tokens = await inspectWindow({
        model: options.model,
        data: options.data,
        scores: options.scores,
        window: options.window,
        ratio: options.ratio,
        ...(tokenizer === undefined ? {} : { tokenizer }),
      });
      if (options.html !== undefined) {
        await writeFile(options.html, renderHtml(tokens, `Window ${options.window} of ${options.data}`));
        output.stdout(`wrote ${options.html}\n`);
      } else {
        const noColor = (process.env.NO_COLOR ?? '') !== ''; // https://no-color.org
        print(
          options.json === true,
          tokens,
          renderTerminal(tokens, { color: process.stdout.isTTY === true && !noColor }),
        );
      }
    });
  return cli;
}

/** The command named in `argv` (`score merge` for the subcommand), or '' when there is none. */
function commandName(cli: Command, argv: readonly string[]): string {
  const names = new Set(cli.commands.map((command) => command.name()));
  const index = argv.findIndex((arg) => names.has(arg));
  if (index < 0) return '';
  return argv[index] === 'score' && argv[index + 1] === 'merge' ? 'score merge' : argv[index]!;
}

/**
 * Runs the command line and returns its exit status: 0, 1 for a failure, 2 for a usage error,
 * 130 when interrupted before anything was written. Every failure is printed as one line
 * `rho-slm: <command>: <what> [CODE]` on `output.stderr` (with the stack after `--verbose`).
 *
 * @param argv - the arguments after the program name
 * @param output - where results and messages go @default the process's stdout and stderr
 * @example
 * ```ts
 * const status = await main(['eval', '--model', 'slm', '--data', 'heldout.tok', '--json']);
 * ```
 */
export async function main(argv: readonly string[], output: CliOutput = processOutput): Promise<number> {
  const cli = program(output);
  try {
    await cli.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    const failure = describeFailure(error, commandName(cli, argv), argv.includes('--verbose'));
    output.stderr(failure.text);
    return failure.exitCode;
  }
}

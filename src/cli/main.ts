// The `rho-slm` command: parses arguments and calls src/pipeline. Long steps show progress, stop
// cleanly on Ctrl-C (with their checkpoint or partial file intact), and print JSON with --json.
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { version } from '../../package.json';
import { SLMError } from '../core/errors.js';
import { SELECTION_STRATEGIES, type SelectionStrategy } from '../core/selectionScores.js';
import type { LlamaConfig, LlamaPresetName } from '../model/config.js';
import type { BackendName } from '../tfjs/backend.js';
import { createProgress, createStagedProgress } from './progress.js';

/** The pipeline, loaded on first use so `--help` and `--version` work without tfjs installed. */
async function pipeline() {
  try {
    const [
      { evaluateModel },
      { prepareCorpus },
      { scoreCorpus },
      { trainModel },
      { mergeScoreParts },
      { useBackend },
    ] = await Promise.all([
      import('../pipeline/evaluate.js'),
      import('../pipeline/prepare.js'),
      import('../pipeline/score.js'),
      import('../pipeline/train.js'),
      import('../data/scoreFile.js'),
      import('../tfjs/backend.js'),
    ]);
    const { inspectWindow } = await import('../pipeline/inspect.js');
    const { renderHtml, renderTerminal } = await import('../pipeline/renderTokens.js');
    return {
      evaluateModel,
      prepareCorpus,
      scoreCorpus,
      trainModel,
      mergeScoreParts,
      useBackend,
      inspectWindow,
      renderHtml,
      renderTerminal,
    };
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

/** Ctrl-C once: stop after the current step; twice: exit now. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nstopping after the current step (Ctrl-C again to quit now)\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return controller.signal;
}

function print(json: boolean, result: object, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${text}\n`);
}

async function backend(name: string): Promise<void> {
  const { useBackend } = await pipeline();
  const { backend: chosen } = await useBackend(name as 'auto' | BackendName);
  process.stderr.write(`backend: ${chosen}\n`);
}

async function modelConfig(value: string): Promise<LlamaPresetName | LlamaConfig> {
  if (value.endsWith('.json')) return JSON.parse(await readFile(value, 'utf8')) as LlamaConfig;
  return value as LlamaPresetName;
}

/** The command-line program. */
export function program(): Command {
  const cli = new Command('rho-slm')
    .description(
      'Selective Language Modeling (Rho-1): prepare, train a reference model, score, train selectively, evaluate',
    )
    .version(version)
    .option('--backend <name>', 'tfjs backend: auto, tensorflow, webgpu, wasm or cpu', 'auto')
    .showHelpAfterError();

  cli
    .command('prepare')
    .description('tokenize text files, folders and JSONL into a token file')
    .argument('<inputs...>', 'text files, .jsonl files or folders')
    .requiredOption('--out <file>', 'token file to write')
    .option('--field <name>', 'JSONL field holding the text', 'text')
    .option(
      '--tokenizer <byte|tokenizer.json>',
      'the byte tokenizer, or a Hugging Face tokenizer.json',
      'byte',
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (
        inputs: string[],
        options: { out: string; field: string; tokenizer: string; json?: boolean },
      ) => {
        const { prepareCorpus } = await pipeline();
        const { loadHuggingFaceTokenizer } = await import('../data/huggingFaceTokenizer.js');
        const info = await prepareCorpus({
          inputs,
          out: options.out,
          field: options.field,
          ...(options.tokenizer === 'byte'
            ? {}
            : { tokenizer: await loadHuggingFaceTokenizer(options.tokenizer) }),
          onProgress: (bytes, documents) => {
            if (documents % 100 === 0)
              process.stderr.write(`prepare: ${documents} documents, ${(bytes / 1e6).toFixed(1)} MB\n`);
          },
        });
        print(
          options.json === true,
          info,
          `wrote ${options.out}: ${info.tokenCount} tokens in ${info.documentCount} documents`,
        );
      },
    );

  cli
    .command('train')
    .description('train a model: plain causal LM (reference model), or selective with --scores')
    .requiredOption('--data <file>', 'token file')
    .requiredOption('--out <dir>', 'output directory (model, checkpoints, metrics.jsonl)')
    .option('--config <preset|file.json>', 'model preset (nano, demo, tinyllama-1.1b) or config.json', 'demo')
    .option('--steps <n>', 'optimizer steps', integer, 200)
    .option('--batch <n>', 'windows per step', integer, 8)
    .option('--seq-len <n>', 'window length', integer)
    .option('--lr <rate>', 'peak learning rate', number, 3e-3)
    .option('--seed <n>', 'seed of weights and window order', number, 0)
    .option('--scores <file>', 'reference scores: train selectively')
    .option('--ratio <r>', 'fraction of tokens selected', number, 0.6)
    .option('--scope <scope>', 'batch or sequence', 'batch')
    .option('--strategy <name>', `one of ${SELECTION_STRATEGIES.join(', ')}`, 'excess')
    .option('--checkpoint-every <n>', 'steps between checkpoints', integer, 50)
    .option('--resume', 'continue from the last checkpoint in --out')
    .option('--json', 'print the result as JSON')
    .action(async (options) => {
      await backend(cli.opts().backend);
      const { trainModel } = await pipeline();
      const progress = createProgress('train', options.steps, 'steps');
      const result = await trainModel({
        data: options.data,
        out: options.out,
        config: await modelConfig(options.config),
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
        signal: interruptSignal(),
        onStep: (stats) => progress.update(stats.step, { loss: stats.loss.toFixed(3) }),
      });
      progress.stop();
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
    .option('--json', 'print the result as JSON')
    .action(async (options) => {
      for (const required of ['model', 'data', 'out']) {
        if (options[required] === undefined)
          cli.error(`error: required option '--${required}' not specified`);
      }
      await backend(cli.opts().backend);
      const { scoreCorpus } = await pipeline();
      let progress: ReturnType<typeof createProgress> | undefined;
      const info = await scoreCorpus({
        model: options.model,
        data: options.data,
        out: options.out,
        batchSize: options.batch,
        ...(options.seqLen === undefined ? {} : { seqLen: options.seqLen }),
        ...(options.shard === undefined ? {} : { shard: options.shard }),
        dtype: options.dtype,
        metrics: `${options.out}.metrics.jsonl`,
        resume: options.resume === true,
        signal: interruptSignal(),
        onProgress: (done, total) => {
          progress ??= createProgress('score', total, 'windows');
          progress.update(done);
        },
      });
      progress?.stop();
      if (info === undefined)
        print(options.json === true, { stopped: true }, `stopped; resume with --resume`);
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
    .requiredOption('--model <dir>', 'model directory')
    .option('--data <file>', 'held-out token file (loss) or a JSONL problem file (with --task)')
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
    .option('--json', 'print the result as JSON')
    .action(async (options) => {
      await backend(cli.opts().backend);
      if (options.task === undefined) {
        if (options.data === undefined) cli.error("error: eval needs '--data <file>' (or '--task')");
        const { evaluateModel } = await pipeline();
        const result = await evaluateModel({
          model: options.model,
          data: options.data,
          ...(options.seqLen === undefined ? {} : { seqLen: options.seqLen }),
        });
        print(
          options.json === true,
          result,
          `loss ${result.loss.toFixed(4)} nats · perplexity ${result.perplexity.toFixed(2)} · ${result.bitsPerByte.toFixed(3)} bits/byte over ${result.tokens} tokens`,
        );
        return;
      }
      const { evaluate, loadMathDataset, syntheticArithmetic } = await import('../eval/index.js');
      const { byteTokenizer } = await import('../data/byteTokenizer.js');
      const { LlamaModel } = await import('../model/llama.js');
      const style = options.task === 'math' ? 'math' : 'gsm8k';
      if (!['gsm8k', 'math', 'arithmetic'].includes(options.task))
        cli.error(`error: unknown task '${options.task}' (gsm8k, math, arithmetic)`);
      if (options.task !== 'arithmetic' && options.data === undefined)
        cli.error(`error: --task ${options.task} needs '--data <file.jsonl>'`);
      const dataset =
        options.task === 'arithmetic'
          ? syntheticArithmetic({ count: 200, seed: 1 })
          : await loadMathDataset(options.data, style);
      const shots =
        options.shots !== undefined
          ? (await loadMathDataset(options.shots, style)).slice(0, options.numShots)
          : options.task === 'arithmetic'
            ? syntheticArithmetic({ count: options.numShots, seed: 2 })
            : [];
      const model = await LlamaModel.load(options.model);
      const progress = createProgress(
        `eval ${options.task}`,
        Math.min(options.limit ?? dataset.length, dataset.length),
        'problems',
      );
      const result = await evaluate({
        model,
        tokenizer: byteTokenizer(),
        dataset,
        shots,
        style,
        maxNewTokens: options.maxNewTokens,
        ...(options.limit === undefined ? {} : { limit: options.limit }),
        ...(options.out === undefined ? {} : { out: options.out }),
        onProgress: (done) => progress.update(done),
      });
      progress.stop();
      model.dispose();
      const { examples: _examples, ...summary } = result;
      print(
        options.json === true,
        summary,
        `${options.task}: accuracy ${(100 * result.accuracy).toFixed(1)}% (${result.correct}/${result.total})`,
      );
    });

  cli
    .command('demo')
    .description('the main job: reference model, scores, then CLM vs SLM on real text, with a report')
    .option('--quick', 'small sizes, same code path (wall times: README)')
    .option('--out <dir>', 'report directory', 'demo-report')
    .option('--json', 'print the results as JSON')
    .action(async (options: { quick?: boolean; out: string; json?: boolean }) => {
      await backend(cli.opts().backend);
      const { DEMO_SETTINGS, runDemo } = await import('../pipeline/demo/run.js');
      const { terminalSummary, writeDemoReport } = await import('../pipeline/demo/report.js');
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
      'the evidence: SLM against CLM, the reference model, a prose-only ceiling and selection controls, over seeds (study.json, study.html)',
    )
    .option('--quick', 'tiny sizes (CI: the whole code path in under a minute)')
    .option('--seeds <n>', 'number of seeds', integer)
    .option('--out <dir>', 'report directory', 'study-report')
    .option('--json', 'print study.json to stdout')
    .action(async (options: { quick?: boolean; seeds?: number; out: string; json?: boolean }) => {
      await backend(cli.opts().backend);
      const { runStudy } = await import('../pipeline/study/run.js');
      const { STUDY_SETTINGS } = await import('../pipeline/study/settings.js');
      const { studySummaryText, writeStudyReport } = await import('../pipeline/study/report.js');
      const { getBackend } = await import('@tensorflow/tfjs');
      const preset = STUDY_SETTINGS[options.quick === true ? 'quick' : 'default'];
      const seeds = options.seeds ?? preset.seeds.length;
      const settings = { ...preset, seeds: Array.from({ length: seeds }, (_, i) => i + 1) };
      const progress = createStagedProgress('steps');
      const command = `rho-slm study${options.quick === true ? ' --quick' : ''}${options.seeds === undefined ? '' : ` --seeds ${seeds}`}`;
      const result = await runStudy(settings, getBackend(), progress.report, async (partial) => {
        await writeStudyReport(partial, options.out, `${command} (partial: the seeds done so far)`);
      });
      progress.stop();
      const report = await writeStudyReport(result, options.out, command);
      print(options.json === true, result, `${studySummaryText(result)}\nreport: ${report}`);
    });

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
    .option('--ratio <r>', 'selection ratio', number, 0.6)
    .option('--html <file>', 'write a self-contained HTML page instead')
    .option('--json', 'print the tokens as JSON')
    .action(async (options) => {
      await backend(cli.opts().backend);
      const { inspectWindow, renderHtml, renderTerminal } = await pipeline();
      const tokens = await inspectWindow({
        model: options.model,
        data: options.data,
        scores: options.scores,
        window: options.window,
        ratio: options.ratio,
      });
      if (options.html !== undefined) {
        const { writeFile } = await import('node:fs/promises');
        await writeFile(options.html, renderHtml(tokens, `Window ${options.window} of ${options.data}`));
        process.stdout.write(`wrote ${options.html}\n`);
      } else print(options.json === true, tokens, renderTerminal(tokens));
    });
  return cli;
}

/** Runs the command line and sets the exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await program().parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof SLMError) {
      process.stderr.write(`rho-slm: ${error.message} [${error.code}]\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

await main(process.argv.slice(2));

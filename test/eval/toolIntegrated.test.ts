// Tool-integrated (ToRA / PAL) evaluation with a scripted model: no language model needed, real
// python3 subprocesses.
import { describe, expect, it } from 'vitest';
import {
  extractProgram,
  type Generate,
  runPython,
  solveWithTools,
  toolPrompt,
} from '../../src/eval/index.js';
import { runSandboxTests } from '../helpers/sandbox.js';

/** A model that answers each call with the next scripted text and records the prompts it saw. */
function scripted(...outputs: string[]): Generate & { prompts: string[] } {
  const prompts: string[] = [];
  const generate = async (prompt: string, stop: readonly string[]) => {
    prompts.push(prompt);
    expect(stop).toContain('```output');
    return outputs[prompts.length - 1] ?? '';
  };
  return Object.assign(generate, { prompts });
}

const code = (body: string) => `\`\`\`python\n${body}\n\`\`\``;
const quick = { timeoutMs: 3000, memoryMb: 256 };

describe.runIf(runSandboxTests)('runPython', () => {
  it('captures printed output, or the value of the answer expression', async () => {
    expect(await runPython('print(6 * 7)')).toEqual({ result: '42', report: 'Done' });
    expect(await runPython('def solution():\n    return 3 / 4', { answerExpression: 'solution()' })).toEqual({
      result: '0.75',
      report: 'Done',
    });
  });

  it('contains bad programs: exceptions, infinite loops, memory bombs, huge output, input(), exit', async () => {
    expect(await runPython('x = 1 / 0')).toEqual({
      result: '',
      report: 'ZeroDivisionError: division by zero',
    });
    const started = Date.now();
    expect(await runPython('while True:\n    pass', { timeoutMs: 800 })).toEqual({
      result: '',
      report: 'Timeout Error',
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await runPython('while True:\n    print("spam" * 1000)', { timeoutMs: 800 })).toEqual({
      result: '',
      report: 'Timeout Error',
    });
    expect(await runPython('block = bytearray(2 * 1024 ** 3)', { memoryMb: 256 })).toEqual({
      result: '',
      report: 'MemoryError',
    });
    const huge = await runPython('print("a" * 300 + "b" * 10 ** 6 + "c" * 300)');
    expect(huge.result).toBe(`${'a'.repeat(200)}...${'c'.repeat(200)}`);
    expect(await runPython('name = input()')).toEqual({ result: '', report: 'RuntimeError' });
    expect((await runPython('import os\nos._exit(3)')).report).toBe('Exited without a result (code 3)');
  }, 30_000);

  it('fails with TOOL_UNAVAILABLE when python3 is missing, and checks its limits', async () => {
    await expect(runPython('print(1)', { python: '/nonexistent/python3' })).rejects.toMatchObject({
      code: 'TOOL_UNAVAILABLE',
      message: /could not start '\/nonexistent\/python3'.*needs a Python 3 interpreter/,
    });
    await expect(runPython('print(1)', { timeoutMs: 0 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});

describe.runIf(runSandboxTests)('solveWithTools', () => {
  it('ToRA: runs the program, feeds the output back, and grades the boxed answer', async () => {
    const generate = scripted(
      `Let's compute the total.\n${code('print(48 + 48 // 2)')}\n`,
      '\nSo Natalia sold $\\boxed{72}$ clips.',
    );
    const solved = await solveWithTools({
      generate,
      question: 'How many clips?',
      answer: '72',
      style: 'gsm8k',
      format: 'tora',
    });
    expect(generate.prompts[0]).toBe(toolPrompt('How many clips?', 'tora'));
    expect(generate.prompts[1]!.endsWith('```\n```output\n72\n```\n')).toBe(true);
    expect(solved.runs).toEqual([{ code: 'print(48 + 48 // 2)\n', result: '72', report: 'Done' }]);
    expect(solved).toMatchObject({ extracted: '72', reference: '72', correct: true });
    expect(solved.completion.endsWith('So Natalia sold $\\boxed{72}$ clips.')).toBe(true);
  }, 20_000);

  it('ToRA: shows errors to the model and stops after maxRounds', async () => {
    const generate = scripted(code('print(1 / 0)'), code('while True:\n    pass'), code('print(5)'));
    const solved = await solveWithTools({
      generate,
      question: 'q',
      answer: '5',
      style: 'math',
      format: 'tora',
      maxRounds: 2,
      python: { ...quick, timeoutMs: 2500 },
    });
    expect(generate.prompts).toHaveLength(2);
    expect(solved.runs.map((run) => run.report)).toEqual([
      'ZeroDivisionError: division by zero',
      'Timeout Error',
    ]);
    expect(generate.prompts[1]).toContain('```output\nZeroDivisionError: division by zero\n```');
    expect(
      solved.completion.endsWith('```output\nTimeout Error\n```\n\nReach max function call limit.'),
    ).toBe(true);
    expect(solved).toMatchObject({ extracted: '0', correct: false }); // the last number, from 1 / 0
  }, 20_000);

  it('PAL: takes solution() as the answer', async () => {
    const program = 'def solution():\n    clips_april = 48\n    return clips_april + clips_april / 2';
    const solved = await solveWithTools({
      generate: scripted(`\n${code(program)}`),
      question: 'q',
      answer: '72',
      style: 'gsm8k',
      format: 'pal',
      python: quick,
    });
    expect(solved.runs).toHaveLength(1);
    expect(solved).toMatchObject({ extracted: '72', correct: true });
    expect(solved.completion).toContain('```output\n\\boxed{72.0}\n```');
    const broken = await solveWithTools({
      generate: scripted(`\n${code('def solution():\n    return undefined_name')}`),
      question: 'q',
      answer: '72',
      style: 'gsm8k',
      format: 'pal',
      python: quick,
    });
    expect(broken.runs[0]!.report).toBe("NameError: name 'undefined_name' is not defined");
    expect(broken).toMatchObject({ extracted: '', correct: false });
  }, 20_000);

  it('PAL without a python block runs the text, then grades the (empty) block as the harness does', async () => {
    const solved = await solveWithTools({
      generate: scripted('def solution():\n    return 7'),
      question: 'q',
      answer: '7',
      style: 'gsm8k',
      format: 'pal',
      python: quick,
    });
    expect(solved.runs.map((run) => [run.result, run.report])).toEqual([
      ['7', 'Done'],
      ['', "NameError: name 'solution' is not defined"],
    ]);
    expect(solved.correct).toBe(false);
  }, 20_000);

  it('extractProgram keeps the last python block', () => {
    expect(
      extractProgram(`${code('a = 1')}\ntext\n${code('b = 2\nprint(b)')}\n\`\`\`output\n2\n\`\`\``),
    ).toBe('b = 2\nprint(b)\n');
    expect(extractProgram('no code')).toBe('');
  });
});

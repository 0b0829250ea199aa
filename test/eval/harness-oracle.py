"""Grades test/eval/harness-cases.jsonl with the Python math-evaluation-harness itself.

The verdicts it writes (harness-verdicts.jsonl) are what test/eval/harnessAgreement.test.ts
compares rho-slm/eval's `grading: 'harness'` mode against. Regenerate with:

    git clone https://github.com/ZubinGou/math-evaluation-harness /tmp/harness
    git -C /tmp/harness checkout dcfa46a2e476a71dc46c957822808435d4e2c3cc
    python3 test/eval/harness-oracle.py --harness /tmp/harness \
        < test/eval/harness-cases.jsonl > test/eval/harness-verdicts.jsonl
    python3 test/eval/harness-oracle.py --harness /tmp/harness \
        < test/eval/harness-pairs.jsonl > test/eval/harness-pair-verdicts.jsonl

Needs sympy and regex. The harness also imports word2number and latex2sympy2; where they are not
installed this script provides stand-ins (written for this script): a word2number 1.1 work-alike,
and a latex2sympy2 that fails (the harness tries sympy's parse_latex and parse_expr first, so
only answers both of those reject are affected). sympy's parse_latex wants antlr4 4.11; the
4.13 runtime reads its grammar as well, so the version check is relaxed.

A line with `pred` and `ref` (a pair of answers) gets math_equal(strip_string(pred),
strip_string(ref)). Per completion case it runs what the harness's evaluate.py runs: the prediction is
strip_string(extract_answer(completion, task)); the reference is strip_string(answer) for GSM8K
and extract_answer('\\boxed{' + answer + '}', 'math') for MATH; the verdict is math_equal(pred, gt),
False after 3 s (evaluate.py's pool timeout).
"""
import argparse
import contextlib
import io
import json
import signal
import sys
import types


class _NotANumber(ValueError):
    pass


_WORDS = {
    'zero': 0, 'one': 1, 'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6, 'seven': 7,
    'eight': 8, 'nine': 9, 'ten': 10, 'eleven': 11, 'twelve': 12, 'thirteen': 13,
    'fourteen': 14, 'fifteen': 15, 'sixteen': 16, 'seventeen': 17, 'eighteen': 18,
    'nineteen': 19, 'twenty': 20, 'thirty': 30, 'forty': 40, 'fifty': 50, 'sixty': 60,
    'seventy': 70, 'eighty': 80, 'ninety': 90, 'hundred': 100, 'thousand': 1000,
    'million': 1000000, 'billion': 1000000000, 'point': '.',
}
_DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']


def _group(words):
    values = [_WORDS[word] for word in words]
    if len(values) == 4:
        return values[0] * values[1] + values[2] + values[3]
    if len(values) == 3:
        return values[0] * values[1] + values[2]
    if len(values) == 2:
        return values[0] * values[1] if 100 in values else values[0] + values[1]
    return values[0]


def _word_to_num(sentence):
    """word2number 1.1's word_to_num, rewritten: digits, or number words in a sentence."""
    if not isinstance(sentence, str):
        raise _NotANumber(sentence)
    sentence = sentence.replace('-', ' ').lower()
    if sentence.isdigit():
        return int(sentence)
    words = [word for word in sentence.strip().split() if word in _WORDS]
    if not words:
        raise _NotANumber(sentence)
    if any(words.count(word) > 1 for word in ('thousand', 'million', 'billion', 'point')):
        raise _NotANumber(sentence)
    decimals = []
    if 'point' in words:
        decimals = words[words.index('point') + 1:]
        words = words[:words.index('point')]
    at = {scale: (words.index(scale) if scale in words else -1) for scale in ('billion', 'million', 'thousand')}
    b, m, t = at['billion'], at['million'], at['thousand']
    if (t > -1 and (t < m or t < b)) or (m > -1 and m < b):
        raise _NotANumber(sentence)
    total = 0
    if len(words) == 1:
        total = _WORDS[words[0]]
    elif words:
        if b > -1:
            total += _group(words[:b]) * 1000000000
        if m > -1:
            total += _group(words[b + 1:m] if b > -1 else words[:m]) * 1000000
        if t > -1:
            start = m + 1 if m > -1 else (b + 1 if b > -1 else 0)
            total += _group(words[start:t]) * 1000
        if t > -1 and t != len(words) - 1:
            total += _group(words[t + 1:])
        elif m > -1 and m != len(words) - 1:
            total += _group(words[m + 1:])
        elif b > -1 and b != len(words) - 1:
            total += _group(words[b + 1:])
        elif t == -1 and m == -1 and b == -1:
            total += _group(words)
    if decimals:
        if any(word not in _DIGIT_WORDS for word in decimals):
            return total
        total += float('0.' + ''.join(str(_WORDS[word]) for word in decimals))
    return total


def _install_stand_ins():
    try:
        import word2number  # noqa: F401
    except ImportError:
        package = types.ModuleType('word2number')
        package.w2n = types.SimpleNamespace(word_to_num=_word_to_num)
        sys.modules['word2number'] = package
        sys.modules['word2number.w2n'] = package.w2n
    try:
        import latex2sympy2  # noqa: F401
    except ImportError:
        module = types.ModuleType('latex2sympy2')

        def latex2sympy(text):
            raise NotImplementedError('latex2sympy2 is not installed')

        module.latex2sympy = latex2sympy
        sys.modules['latex2sympy2'] = module
    sys.modules.setdefault('utils', types.ModuleType('utils'))
    import sympy.parsing.latex._parse_latex_antlr as antlr_parser

    antlr_parser.version = lambda name: '4.11.1'


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def main():
    arguments = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    arguments.add_argument('--harness', required=True, help='a checkout of math-evaluation-harness')
    options = arguments.parse_args()
    sys.path.insert(0, options.harness)
    _install_stand_ins()
    from grader import math_equal
    from parser import extract_answer, strip_string

    signal.signal(signal.SIGALRM, _alarm)
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        noise = io.StringIO()  # antlr prints a version warning on stdout
        with contextlib.redirect_stdout(noise), contextlib.redirect_stderr(noise):
            data = 'gsm8k' if case['task'] == 'gsm8k' else 'math'
            if 'pred' in case:  # a pair of answers: each normalised once
                pred, gt = strip_string(case['pred']), strip_string(case['ref'])
            else:
                pred = strip_string(extract_answer(case['completion'], data))
                gt = strip_string(case['answer']) if data == 'gsm8k' else extract_answer('\\boxed{' + case['answer'] + '}', data)
            signal.alarm(3)
            try:
                correct = bool(math_equal(pred, gt))
            except _Timeout:
                correct = False
            finally:
                signal.alarm(0)
        print(json.dumps({'id': case['id'], 'pred': pred, 'gt': gt, 'correct': correct}))


if __name__ == '__main__':
    main()

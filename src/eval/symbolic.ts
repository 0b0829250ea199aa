// A small LaTeX expression reader and numeric comparison: what the harness's `symbolic_equal`
// (sympy's parse_latex, then simplify or numeric evaluation) decides for answers in practice.
// Numbers, letters as symbols (`xy` = x·y; `e`, `i` and `\pi` are symbols too, as sympy's
// parse_latex reads them, so `16\pi` equals `\pi\cdot16` but not 50.27), `\infty`, + − · × ÷ /, implicit products (binding tighter than / as in sympy: `1/2x` = 1/(2x)),
// powers, `!`, `\frac`, `\sqrt[n]{}`, `\binom`, |x|, functions (`\sin`, `\ln`, `\log_b`, …), and
// unknown commands as symbols (`\mathbb{R}` = mathbb·R).

/** A parsed expression: its value at given symbol values, the symbols it uses, and whether it is `l = r`. */
interface Parsed {
  value: (symbols: ReadonlyMap<string, number>) => number;
  symbols: Set<string>;
  equation: boolean;
}

type Value = Parsed['value'];

const SPACING = new Set([',', '!', ';', ':', ' ', 'quad', 'qquad', 'left', 'right', 'displaystyle']);
const FUNCTIONS: Readonly<Record<string, (x: number) => number>> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  sec: (x) => 1 / Math.cos(x),
  csc: (x) => 1 / Math.sin(x),
  cot: (x) => 1 / Math.tan(x),
  arcsin: Math.asin,
  arccos: Math.acos,
  arctan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  ln: Math.log,
  exp: Math.exp,
  log: Math.log, // sympy reads \log as ln
};

class ParseError extends Error {}

function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) return Number.NaN;
  let product = 1;
  for (let k = 2; k <= n; k++) product *= k;
  return product;
}

function binomial(n: number, k: number): number {
  if (!Number.isInteger(k) || k < 0) return Number.NaN;
  let product = 1;
  for (let j = 0; j < k; j++) product = (product * (n - j)) / (j + 1);
  return product;
}

class Reader {
  private at = 0;
  readonly symbols = new Set<string>();

  constructor(private readonly text: string) {}

  /** The expression at the start of the text. */
  read(): Parsed {
    const left = this.additive();
    let value = left;
    let equation = false;
    if (this.eat('=')) {
      const right = this.additive();
      value = (s) => Math.abs(left(s) - right(s));
      equation = true;
    }
    // sympy's lenient parse keeps the longest readable prefix ("10^-2" is 10, "1,2" is 1), but
    // fails on characters that are no LaTeX token at all (`.`, `%`, `\\`, a backslash and a digit).
    if (/[^\p{L}\p{N}\s+\-*/^_=,()[\]{}|!<>:\\]|\\(?![a-zA-Z,;:! {}|])/u.test(this.text.slice(this.at))) {
      throw new ParseError(this.text);
    }
    return { value, symbols: this.symbols, equation };
  }

  private skip(): void {
    for (;;) {
      while (/\s/.test(this.text[this.at] ?? '')) this.at++;
      const command = /^\\([a-zA-Z]+|[,!;: ])/.exec(this.text.slice(this.at));
      if (command === null || !SPACING.has(command[1]!)) return;
      this.at += command[0].length;
    }
  }

  private peek(): string {
    this.skip();
    return this.text[this.at] ?? '';
  }

  private eat(token: string): boolean {
    this.skip();
    if (!this.text.startsWith(token, this.at)) return false;
    if (/^\\[a-zA-Z]+$/.test(token) && /[a-zA-Z]/.test(this.text[this.at + token.length] ?? '')) return false;
    this.at += token.length;
    return true;
  }

  private expect(token: string): void {
    if (!this.eat(token)) throw new ParseError(`expected ${token} at ${this.at} in ${this.text}`);
  }

  private additive(): Value {
    let value = this.multiplicative();
    for (;;) {
      const left = value;
      if (this.eat('+')) {
        const right = this.multiplicative();
        value = (s) => left(s) + right(s);
      } else if (this.eat('-')) {
        const right = this.multiplicative();
        value = (s) => left(s) - right(s);
      } else return value;
    }
  }

  private multiplicative(): Value {
    let value = this.unary();
    for (;;) {
      const left = value;
      if (this.eat('*') || this.eat('\\cdot') || this.eat('\\times')) {
        const right = this.unary();
        value = (s) => left(s) * right(s);
      } else if (this.eat('/') || this.eat('\\div') || this.eat(':')) {
        const right = this.unary();
        value = (s) => left(s) / right(s);
      } else return value;
    }
  }

  private unary(): Value {
    if (this.eat('-')) {
      const inner = this.unary();
      return (s) => -inner(s);
    }
    if (this.eat('+')) return this.unary();
    return this.implicitProduct();
  }

  private startsFactor(): boolean {
    const next = this.peek();
    if (!/[0-9a-zA-Z([{\\]/.test(next)) return false;
    return !/^\\(cdot|times|div|right|end)(?![a-zA-Z])|^\\[^a-zA-Z{]/.test(this.text.slice(this.at));
  }

  private implicitProduct(): Value {
    let value = this.power();
    while (this.startsFactor()) {
      const left = value;
      const right = this.power();
      value = (s) => left(s) * right(s);
    }
    return value;
  }

  private power(): Value {
    let value = this.atom();
    for (;;) {
      if (this.peek() === '^' && /^\^\s*[{0-9a-zA-Z\\]/.test(this.text.slice(this.at))) {
        this.at++;
        const base = value;
        const exponent = this.exponent();
        value = (s) => base(s) ** exponent(s);
      } else if (this.eat('!')) {
        const inner = value;
        value = (s) => factorial(inner(s));
      } else return value;
    }
  }

  /** A power's or subscript's argument: a `{group}`, one number, one letter or one command atom. */
  private exponent(): Value {
    if (this.eat('{')) {
      const inner = this.additive();
      this.expect('}');
      return inner;
    }
    return this.atom();
  }

  private group(): Value {
    this.expect('{');
    const inner = this.additive();
    this.expect('}');
    return inner;
  }

  /** `\frac12`-style arguments: one digit or letter when no brace follows. */
  private fracArgument(): Value {
    if (this.peek() === '{') return this.group();
    const char = this.text[this.at] ?? '';
    if (!/[0-9a-zA-Z]/.test(char)) throw new ParseError(this.text);
    this.at++;
    if (/\d/.test(char)) return () => Number(char);
    this.symbols.add(char);
    return (s) => s.get(char)!;
  }

  private bracketed(open: string, close: string, wrap: (x: number) => number = (x) => x): Value {
    this.expect(open);
    const inner = this.additive();
    this.expect(close);
    return (s) => wrap(inner(s));
  }

  private atom(): Value {
    const next = this.peek();
    const rest = this.text.slice(this.at);
    // Digits run on across spaces and thin spaces (sympy reads `26\,000` as 26000).
    const number = /^\d+(?:(?:\s|\\[,;:! ])*\d+|,\d{3})*(\.\d+)?/.exec(rest);
    if (number !== null) {
      this.at += number[0].length;
      const value = Number(number[0].replace(/,(?=\d{3})|\s|\\[,;:! ]/g, ''));
      return () => value;
    }
    if (/[a-zA-Z]/.test(next)) return this.symbol(next, 1);
    if (next === '(') return this.bracketed('(', ')');
    if (next === '[') return this.bracketed('[', ']');
    if (next === '{') return this.group();
    if (next === '|') return this.bracketed('|', '|', Math.abs);
    if (rest.startsWith('\\{')) return this.bracketed('\\{', '\\}');
    const command = /^\\([a-zA-Z]+)/.exec(rest);
    if (command === null) throw new ParseError(`unexpected ${JSON.stringify(next)} in ${this.text}`);
    this.at += command[0].length;
    return this.command(command[1]!);
  }

  private symbol(name: string, length: number): Value {
    this.at += length;
    let full = name;
    if (this.peek() === '_') {
      const start = ++this.at;
      this.exponent();
      full = `${name}_${this.text.slice(start, this.at)}`;
    }
    this.symbols.add(full);
    return (s) => s.get(full)!;
  }

  private command(name: string): Value {
    if (name === 'frac' || name === 'dfrac' || name === 'tfrac') {
      const top = this.fracArgument();
      const bottom = this.fracArgument();
      return (s) => top(s) / bottom(s);
    }
    if (name === 'binom' || name === 'dbinom' || name === 'tbinom') {
      const n = this.group();
      const k = this.group();
      return (s) => binomial(n(s), k(s));
    }
    if (name === 'sqrt') {
      const degree = this.peek() === '[' ? this.bracketed('[', ']') : () => 2;
      const radicand = this.group();
      return (s) => {
        const n = degree(s);
        const x = radicand(s);
        return n === 2 ? Math.sqrt(x) : x < 0 && n % 2 === 1 ? -((-x) ** (1 / n)) : x ** (1 / n);
      };
    }
    if (name === 'infty') return () => Number.POSITIVE_INFINITY;
    const fn = FUNCTIONS[name];
    if (fn !== undefined) return this.functionCall(name, fn);
    this.symbols.add(`\\${name}`);
    return (s) => s.get(`\\${name}`)!;
  }

  private functionCall(name: string, fn: (x: number) => number): Value {
    let base: Value | undefined;
    if (name === 'log' && this.eat('_')) base = this.fracArgument(); // \log_28 is log base 2 of 8
    const power = this.eat('^') ? this.exponent() : () => 1;
    const argument = this.peek() === '(' || this.peek() === '{' ? this.atom() : this.implicitProduct();
    return (s) => {
      const x = argument(s);
      const y = base === undefined ? fn(x) : Math.log(x) / Math.log(base(s));
      return y ** power(s);
    };
  }
}

/** Answers longer than this are not compared symbolically. */
const MAX_SYMBOLIC_LENGTH = 1000;

/** Parses an answer, or `undefined` when it is not an expression this reader knows. */
export function parseExpression(text: string): Parsed | undefined {
  try {
    return new Reader(text).read();
  } catch (error) {
    if (error instanceof ParseError) return undefined;
    throw error;
  }
}

/** Symbol values for the comparison points: fixed, away from 0 and from each other, both signs. */
function samplePoints(names: readonly string[], count: number): Map<string, number>[] {
  let state = 0x9e3779b9;
  const next = () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, (_, point) => {
    const values = new Map<string, number>();
    for (const name of names) values.set(name, (0.5 + 2 * next()) * (point % 2 === 0 ? 1 : -1));
    return values;
  });
}

function agree(a: number, b: number, relative: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= Math.max(relative * Math.max(Math.abs(a), Math.abs(b)), 1e-12);
}

/** `{1,2}`, `(1,2)`, `[1,2]` of plain numbers, as sympy's `parse_expr` reads them: a set, tuple or list. */
function collection(text: string): { kind: string; items: string[] } | undefined {
  const match = /^([{([])(.*)([})\]])$/.exec(text);
  if (match === null || '{(['.indexOf(match[1]!) !== '})]'.indexOf(match[3]!)) return undefined;
  const items = match[2]!.split(',').map((item) => item.trim());
  if (!items.every((item) => /^-?(\d+\.?\d*|\.\d+)$/.test(item))) return undefined;
  return { kind: match[1]!, items: items.map((item) => String(Number(item))) };
}

/** Answers neither reads as an expression: equal as the same text, set, tuple or list. */
function sameCollections(predicted: string, reference: string): boolean {
  if (predicted === reference) return true;
  const [a, b] = [collection(predicted), collection(reference)];
  if (a === undefined || b === undefined || a.kind !== b.kind) return false;
  if (a.kind !== '{') return a.items.join() === b.items.join();
  return new Set(a.items).size === new Set(b.items).size && a.items.every((item) => b.items.includes(item));
}

/**
 * Whether two answers are the same expression, as the harness's `symbolic_equal` decides in
 * practice: both are read (with doubled backslashes `\\frac` made single first); without symbols
 * their values must agree within relative 1e-4 (`\frac{\sqrt{2}}{2}` = `0.7071`, `1000(26)` =
 * `26000`); with symbols they must agree at twelve fixed points (`(x-1)(x+1)` = `x^2-1`); equations
 * compare |left − right|. Two answers it cannot read are equal as identical strings, or as the same
 * set, tuple or list of numbers (`{1,2}` = `{2,1}`, as sympy's `parse_expr` reads them). Answers
 * over 1000 characters are not compared (the harness gives up on such after 3 s).
 *
 * @example
 * ```ts
 * symbolicEqual('2\\sqrt{3}', '\\sqrt{12}');  // true
 * symbolicEqual('x+1', '1+x');               // true
 * symbolicEqual('3\\sqrt{2}', '2\\sqrt{3}'); // false
 * ```
 */
export function symbolicEqual(predicted: string, reference: string): boolean {
  // Longer answers stand for what the harness gives up on after its 3 s timeout (and would
  // overflow the stack here).
  if (predicted.length > MAX_SYMBOLIC_LENGTH || reference.length > MAX_SYMBOLIC_LENGTH) return false;
  const read = (text: string) => parseExpression(text.replace(/\\\\/g, '\\')) ?? parseExpression(text);
  const a = read(predicted);
  const b = read(reference);
  if (a === undefined && b === undefined) return sameCollections(predicted, reference);
  if (a === undefined || b === undefined) return false;
  if (a.equation !== b.equation) return false;
  const names = [...new Set([...a.symbols, ...b.symbols])].sort();
  if (names.length === 0) return agree(a.value(new Map()), b.value(new Map()), 1e-4);
  let compared = 0;
  for (const point of samplePoints(names, 12)) {
    const [x, y] = [a.value(point), b.value(point)];
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (!agree(x, y, 1e-9)) return false;
    compared++;
  }
  return compared >= 2;
}

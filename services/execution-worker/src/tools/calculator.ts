/**
 * A small arithmetic parser and evaluator (no eval, no Function): numbers, + - * / % ^,
 * parentheses, unary signs, sqrt abs round min max floor ceil, and the constants pi and e.
 * Grammar (^ binds tighter than unary minus and is right-associative, as in maths: -2^2 = -4):
 *   expr   := term (('+'|'-') term)*
 *   term   := unary (('*'|'/'|'%') unary)*
 *   unary  := ('+'|'-') unary | power
 *   power  := atom ('^' unary)?
 *   atom   := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
 */

/** A malformed expression or an undefined result (division by zero, sqrt of a negative…). */
export class CalculatorError extends Error {
  override name = "CalculatorError";
}

type Token =
  | { kind: "num"; value: number; pos: number }
  | { kind: "name" | "op"; value: string; pos: number };

const FUNCTIONS: Record<string, { arity: [number, number]; fn: (...xs: number[]) => number }> = {
  sqrt: { arity: [1, 1], fn: Math.sqrt },
  abs: { arity: [1, 1], fn: Math.abs },
  round: { arity: [1, 2], fn: (x, d = 0) => Math.round(x * 10 ** d) / 10 ** d },
  floor: { arity: [1, 1], fn: Math.floor },
  ceil: { arity: [1, 1], fn: Math.ceil },
  min: { arity: [1, 50], fn: Math.min },
  max: { arity: [1, 50], fn: Math.max },
};
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ kind: "num", value: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_]\w*/.exec(src.slice(i));
    if (name) {
      out.push({ kind: "name", value: name[0].toLowerCase(), pos: i });
      i += name[0].length;
      continue;
    }
    if (ch === "*" && src[i + 1] === "*") {
      out.push({ kind: "op", value: "^", pos: i });
      i += 2;
      continue;
    }
    if ("+-*/%^(),×÷".includes(ch)) {
      out.push({ kind: "op", value: ch === "×" ? "*" : ch === "÷" ? "/" : ch, pos: i });
      i++;
      continue;
    }
    throw new CalculatorError(`unexpected character "${ch}" at position ${i + 1}`);
  }
  return out;
}

/** Evaluates `expression`. @throws CalculatorError */
export function evaluate(expression: string): number {
  const tokens = tokenize(expression);
  let i = 0;
  let depth = 0;
  const peek = () => tokens[i];
  const isOp = (v: string) => {
    const t = tokens[i];
    return t?.kind === "op" && t.value === v;
  };
  const expect = (v: string) => {
    if (!isOp(v)) {
      const t = peek();
      throw new CalculatorError(
        t ? `expected "${v}" at position ${t.pos + 1}` : `expected "${v}" at the end`,
      );
    }
    i++;
  };

  function expr(): number {
    let v = term();
    while (isOp("+") || isOp("-")) {
      const op = (tokens[i++] as { value: string }).value;
      const r = term();
      v = op === "+" ? v + r : v - r;
    }
    return v;
  }
  function term(): number {
    let v = unary();
    while (isOp("*") || isOp("/") || isOp("%")) {
      const op = (tokens[i++] as { value: string }).value;
      const r = unary();
      if ((op === "/" || op === "%") && r === 0) throw new CalculatorError("division by zero");
      v = op === "*" ? v * r : op === "/" ? v / r : v % r;
    }
    return v;
  }
  function unary(): number {
    if (isOp("-")) {
      i++;
      return -unary();
    }
    if (isOp("+")) {
      i++;
      return unary();
    }
    return power();
  }
  function power(): number {
    const base = atom();
    if (isOp("^")) {
      i++;
      return base ** unary();
    }
    return base;
  }
  function atom(): number {
    const t = peek();
    if (!t) throw new CalculatorError("unexpected end of expression");
    if (t.kind === "num") {
      i++;
      return t.value;
    }
    if (t.kind === "name") {
      i++;
      // own properties only: "constructor" or "__proto__" must not reach Object.prototype
      const f = Object.hasOwn(FUNCTIONS, t.value) ? FUNCTIONS[t.value] : undefined;
      if (f) {
        expect("(");
        if (++depth > 100) throw new CalculatorError("expression nested too deeply");
        const args = [expr()];
        while (isOp(",")) {
          i++;
          args.push(expr());
        }
        expect(")");
        depth--;
        if (args.length < f.arity[0] || args.length > f.arity[1])
          throw new CalculatorError(
            `${t.value} takes ${f.arity[0] === f.arity[1] ? f.arity[0] : `${f.arity[0]} to ${f.arity[1]}`} argument(s)`,
          );
        if (t.value === "sqrt" && args[0]! < 0) throw new CalculatorError("square root of a negative number");
        return f.fn(...args);
      }
      const c = Object.hasOwn(CONSTANTS, t.value) ? CONSTANTS[t.value] : undefined;
      if (c !== undefined) return c;
      throw new CalculatorError(`unknown name "${t.value}" at position ${t.pos + 1}`);
    }
    if (t.value === "(") {
      i++;
      if (++depth > 100) throw new CalculatorError("expression nested too deeply");
      const v = expr();
      expect(")");
      depth--;
      return v;
    }
    throw new CalculatorError(`unexpected "${t.value}" at position ${t.pos + 1}`);
  }

  if (tokens.length === 0) throw new CalculatorError("empty expression");
  const v = expr();
  const rest = peek();
  if (rest) throw new CalculatorError(`unexpected "${rest.value}" at position ${rest.pos + 1}`);
  if (!Number.isFinite(v)) throw new CalculatorError("the result is not a finite number");
  return v;
}

/** The result as text, without binary floating-point noise (0.1 + 0.2 → "0.3"). */
export function formatNumber(v: number): string {
  const rounded = Number(v.toPrecision(15));
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

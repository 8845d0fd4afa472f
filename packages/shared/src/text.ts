/**
 * Text that crosses a boundary: cutting it without splitting a character, making it storable, and
 * reading decimal integers strictly. A JavaScript string is UTF-16 and may hold a lone surrogate
 * (half of a character outside the BMP, such as an emoji or 𝕏); PostgreSQL refuses one in
 * `json`/`jsonb` and replaces it in `text`, so none may reach the database.
 */

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/**
 * The longest start of `s` of at most `max` UTF-16 units that does not end inside a surrogate pair.
 * For text kept for machines (logs, error details, tool output an LLM reads).
 */
export function cutCodePoints(s: string, max: number): string {
  if (s.length <= max) return s;
  const end = Math.max(0, max);
  // cutting between a high and a low surrogate would leave the high one alone
  return end > 0 && isHigh(s.charCodeAt(end - 1)) && isLow(s.charCodeAt(end))
    ? s.slice(0, end - 1)
    : s.slice(0, end);
}

/** The longest end of `s` of at most `max` UTF-16 units that does not start inside a surrogate pair (a log's tail). */
export function lastCodePoints(s: string, max: number): string {
  if (s.length <= max) return s;
  const start = s.length - Math.max(0, max);
  return start < s.length && isLow(s.charCodeAt(start)) && isHigh(s.charCodeAt(start - 1))
    ? s.slice(start + 1)
    : s.slice(start);
}

/**
 * The longest start of `s` of at most `max` UTF-16 units that ends between graphemes (what a person
 * sees as one character: 👩‍👩‍👧, é written as e + U+0301, a flag). A first grapheme longer than `max`
 * is cut between code points instead, so a long run of combining marks still yields text.
 */
export function cutGraphemes(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = 0;
  for (const { index, segment } of graphemes.segment(s)) {
    if (index + segment.length > max) break;
    end = index + segment.length;
  }
  return end > 0 ? s.slice(0, end) : cutCodePoints(s, max);
}

/**
 * `s` shortened for people to read: at most `max` UTF-16 units of it, cut between graphemes, then
 * `ellipsis` when something was cut.
 * @defaultValue ellipsis "…"
 */
export function clip(s: string, max: number, ellipsis = "…"): string {
  return s.length > max ? `${cutGraphemes(s, max)}${ellipsis}` : s;
}

/**
 * `value` with every string in it (object keys too) made well-formed: a lone surrogate becomes
 * U+FFFD. For text from LLMs and tools, which can be cut anywhere, on its way to storage.
 */
export function wellFormed<T>(value: T): T {
  if (typeof value === "string") return value.toWellFormed() as T;
  if (Array.isArray(value)) return value.map(wellFormed) as T;
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toWellFormed(), wellFormed(v)])) as T;
  return value;
}

/**
 * A decimal integer as people and URLs write it: digits only (no sign, space, exponent, fraction,
 * or 0x/0b prefix), within `[min, max]`; anything else is undefined.
 */
export function parseDecimalInt(s: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}

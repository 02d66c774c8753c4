/**
 * User-supplied regular expressions (exam-mapping rules with `match: regex`, repeat-rule
 * planned-follow-up patterns) compiled with RE2 (re2js): matching time is linear in the subject,
 * so no pattern, however written, can backtrack and stall the event loop (`(a+)+$` is safe).
 * The dialect is RE2's (https://github.com/google/re2/wiki/Syntax), the same as DuckDB's regexp
 * functions: no backreferences (`\1`, `\k<name>`) and no lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`);
 * those are refused with a PatternError naming the pattern and why.
 * Repeats imports this module too (repeats → analytics is an existing downward arrow).
 */
import { RE2JS } from "re2js";

/** A compiled user pattern: unanchored search, like RegExp.prototype.test. */
export interface SafePattern {
  readonly source: string;
  test(text: string): boolean;
}

/** A pattern that is not valid RE2 syntax. Extends SyntaxError, as `new RegExp` would throw. */
export class PatternError extends SyntaxError {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`pattern /${pattern}/: ${reason}`);
    this.name = "PatternError";
  }
}

/** Why RE2 refuses a pattern that JavaScript would accept, when it is a construct we can name. */
function unsupportedConstruct(pattern: string): string | null {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const n = pattern[i + 1];
      if (n !== undefined && n >= "1" && n <= "9") return `backreferences (\\${n}) are not supported (RE2 syntax, linear-time matching)`;
      if (n === "k" && pattern[i + 2] === "<") return "named backreferences (\\k<name>) are not supported (RE2 syntax, linear-time matching)";
      i++;
      continue;
    }
    if (c === "(" && pattern[i + 1] === "?") {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith("=") || rest.startsWith("!")) return "lookahead ((?= or (?!) is not supported (RE2 syntax, linear-time matching)";
      if (rest === "<=" || rest === "<!") return "lookbehind ((?<= or (?<!) is not supported (RE2 syntax, linear-time matching)";
    }
  }
  return null;
}

/** Compiles a user pattern with RE2; throws PatternError on invalid or unsupported syntax. */
export function compilePattern(pattern: string, options: { caseInsensitive?: boolean } = {}): SafePattern {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, options.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    const named = unsupportedConstruct(pattern);
    if (named) throw new PatternError(pattern, named);
    // re2js reports "error parsing regexp: <what>: `<where>`", the flag prefix included in <where>.
    const raw = err instanceof Error ? err.message : String(err);
    throw new PatternError(pattern, `invalid regular expression (RE2 syntax): ${raw.replace(/^error parsing regexp: /, "").replace("`(?i)", "`")}`);
  }
  return { source: pattern, test: (text) => re.test(text) };
}

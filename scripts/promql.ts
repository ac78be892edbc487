/**
 * The metric names a PromQL expression selects, for tests that hold the rules and the dashboard to the names the
 * mesh serves: label matchers, groupings, ranges and strings are removed first, then every identifier that is not a
 * function, a keyword or a number is a metric. Good for the expressions this project writes, not a PromQL parser.
 */
const KEYWORDS = /^(by|without|on|ignoring|group_left|group_right|and|or|unless|bool|offset|Inf|NaN)$/i;

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((match) => !/^\s*\(/.test(stripped.slice(match.index + match[0].length))) // a function's name
    .map((match) => match[0])
    .filter((word) => !KEYWORDS.test(word));
}

/**
 * Text for a terminal or the login notice: control characters (an escape sequence from a forged or odd unit state,
 * a newline that would fake a second line) shown as \xNN instead of acting. Pure.
 */
export function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * os-release(5) text to its variables: `KEY=value` lines, the value unquoted ("…" with \\ \" \$ \` escapes, or '…'),
 * comments and malformed lines skipped. One parser for the running system's file and a UKI's `.osrel` section.
 */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    const q = v[0];
    if ((q === '"' || q === "'") && v.length >= 2 && v.endsWith(q)) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\([\\"$`])/g, "$1");
    }
    out.set(m[1]!, v);
  }
  return out;
}

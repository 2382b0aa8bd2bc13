/**
 * Pure codec for GRUB's environment block: exactly 1024 bytes, a signature line, name=value lines with
 * backslash-escaped backslashes and newlines, '#' padding. Edits keep every untouched line byte for byte.
 */

export const BLOCK_SIZE = 1024;
export const SIGNATURE = "# GRUB Environment Block\n";

interface Line {
  raw: string; // as stored, escapes and trailing newline included
  name?: string; // absent for comment lines
  value?: string; // unescaped
}

export interface EnvBlock {
  lines: Line[];
}

export type EnvProblem = string;

function unescapeValue(v: string): string {
  return v.replace(/\\([\s\S])/g, "$1");
}

function escapeValue(v: string): string {
  return v.replace(/[\\\n]/g, (c) => `\\${c}`);
}

/** Bytes are latin1 both ways, so any byte sequence survives a parse/serialize round trip. */
export function parseEnvBlock(buf: Uint8Array): EnvBlock | EnvProblem {
  if (buf.length !== BLOCK_SIZE)
    return `size is ${buf.length} bytes, a GRUB environment block is ${BLOCK_SIZE}`;
  const text = Buffer.from(buf).toString("latin1");
  if (!text.startsWith(SIGNATURE)) return "missing signature line '# GRUB Environment Block'";
  const lines: Line[] = [];
  let pos = SIGNATURE.length;
  while (pos < text.length) {
    // A line ends at a newline that is not escaped; the padding is a run of '#' with no newline.
    let end = pos;
    while (end < text.length && text[end] !== "\n") end += text[end] === "\\" ? 2 : 1;
    if (end >= text.length) {
      const rest = text.slice(pos);
      if (!/^#*$/.test(rest)) return `unterminated line at byte ${pos}`;
      break;
    }
    const raw = text.slice(pos, end + 1);
    pos = end + 1;
    if (raw.startsWith("#")) {
      lines.push({ raw });
      continue;
    }
    const eq = raw.indexOf("=");
    if (eq <= 0) return `malformed line at byte ${pos - raw.length}: ${JSON.stringify(raw.slice(0, 40))}`;
    lines.push({ raw, name: raw.slice(0, eq), value: unescapeValue(raw.slice(eq + 1, -1)) });
  }
  return { lines };
}

/** GRUB's load_env lets a later duplicate win; so do we. */
export function envGet(block: EnvBlock, name: string): string | undefined {
  let v: string | undefined;
  for (const l of block.lines) if (l.name === name) v = l.value;
  return v;
}

export function envEntries(block: EnvBlock): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of block.lines) if (l.name !== undefined) m.set(l.name, l.value!);
  return m;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Set (string) or unset (undefined) variables. An existing variable is rewritten in place and its duplicates are
 * dropped (so GRUB and grub-editenv read the same value); a new one is appended, as grub-editenv does.
 */
export function envEdit(block: EnvBlock, changes: Record<string, string | undefined>): EnvBlock {
  let lines = [...block.lines];
  for (const [name, value] of Object.entries(changes)) {
    if (!NAME.test(name)) throw new RangeError(`invalid variable name ${JSON.stringify(name)}`);
    const first = lines.findIndex((l) => l.name === name);
    const line = value === undefined ? undefined : { raw: `${name}=${escapeValue(value)}\n`, name, value };
    if (first < 0) {
      if (line) lines.push(line);
      continue;
    }
    const unchanged = line && lines[first]!.value === value ? lines[first] : line;
    lines = lines.flatMap((l, i) =>
      i === first ? (unchanged ? [unchanged] : []) : l.name === name ? [] : [l],
    );
  }
  return { lines };
}

export function serializeEnvBlock(block: EnvBlock): Buffer {
  const body = SIGNATURE + block.lines.map((l) => l.raw).join("");
  if (body.length > BLOCK_SIZE) {
    throw new RangeError(`environment needs ${body.length} bytes, the block holds ${BLOCK_SIZE}`);
  }
  return Buffer.from(body.padEnd(BLOCK_SIZE, "#"), "latin1");
}

import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { type Document, isScalar, parseDocument, type Scalar, visit } from "yaml";
import { BootwardenError, describeError, errnoText } from "../base/errors.js";
import { DEFAULT_CONFIG, DEFAULT_CONFIG_DIR, sysPath } from "../base/paths.js";
import { readRegular } from "../base/read-regular.js";
import { formatIssues } from "./issues.js";
import { type Config, configSchema } from "./schema.js";

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === "object" && v !== null && !Array.isArray(v);

/** Drop-ins override key by key; lists and scalars are replaced whole (as systemd drop-ins replace settings). */
export function mergeConfig(base: Plain, over: Plain): Plain {
  const out: Plain = Object.assign(Object.create(null) as Plain, base);
  for (const [k, v] of Object.entries(over)) {
    if (FORBIDDEN_KEYS.has(k)) throw bad(`key ${JSON.stringify(k)} is not allowed`);
    const b = out[k];
    out[k] = isPlain(b) && isPlain(v) ? mergeConfig(b, v) : v;
  }
  return out;
}

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
// The tags the YAML 1.2 core schema resolves by itself; anything else (!!set, !!binary, custom) is refused.
const CORE_TAGS = new Set(
  ["str", "int", "float", "bool", "null", "map", "seq"].map((t) => `tag:yaml.org,2002:${t}`),
);

const bad = (msg: string) => new BootwardenError("config", "invalid", msg);

/** Refuses keys that could reach an object's prototype and tags outside the core schema, naming where. */
function checkNodes(doc: Document, shownAs: string, text: string): void {
  const where = (node: { range?: [number, number, number] | null }) => {
    const at = node.range?.[0];
    return at === undefined ? "" : `:${text.slice(0, at).split("\n").length}`;
  };
  visit(doc, {
    Pair(_, pair) {
      const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (k !== undefined && FORBIDDEN_KEYS.has(k))
        throw bad(`${shownAs}${where(pair.key as Scalar)}: key ${JSON.stringify(k)} is not allowed`);
    },
    Node(_, node) {
      if (node.tag && !CORE_TAGS.has(node.tag))
        throw bad(
          `${shownAs}${where(node)}: YAML tag ${node.tag} is not allowed (plain mappings, lists and scalars only)`,
        );
    },
  });
}

async function readYaml(file: string, shownAs: string): Promise<Plain> {
  let text: string;
  try {
    text = (await readRegular(file, 1 << 20)).toString("utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === "ENOENT" ? "not-found" : "io";
    throw new BootwardenError("config", code, `${shownAs}: cannot read: ${errnoText(err)}`);
  }
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, schema: "core" });
  const e = doc.errors[0] ?? doc.warnings[0];
  if (e) {
    const line = e.linePos?.[0].line;
    throw bad(`${shownAs}${line ? `:${line}` : ""}: invalid YAML: ${e.message.split("\n")[0]}`);
  }
  checkNodes(doc, shownAs, text);
  let value: unknown;
  try {
    // Few aliases: a config has no use for them, and a billion-laughs document stops here.
    value = doc.toJS({ maxAliasCount: 50 }) ?? {};
  } catch (err) {
    throw bad(`${shownAs}: invalid YAML: ${describeError(err).split("\n")[0]}`);
  }
  if (!isPlain(value)) throw bad(`${shownAs}: top level must be a mapping`);
  return value;
}

export function validateConfig(raw: unknown, shownAs: string): Config {
  const r = configSchema.safeParse(raw);
  if (!r.success) throw bad(`${shownAs}: ${formatIssues(r.error.issues, raw)}`);
  return r.data;
}

export interface LoadedConfig {
  config: Config;
  files: string[];
}

/**
 * --config FILE reads that file alone. Otherwise /etc/bootwarden/config.yaml (absent: built-in defaults) plus
 * config.d/*.yaml in lexical order.
 */
export async function loadConfig(explicit?: string): Promise<LoadedConfig> {
  const { raw, files } = await loadRaw(explicit);
  return { config: validateConfig(raw, files.join(" + ") || "built-in defaults"), files };
}

/**
 * For the backstop: when the whole config is invalid, still find the boot state (and the deadline, if it parses) so a
 * trial boot can be rolled back. Anything that does not validate falls back to the built-in default.
 */
export async function loadConfigLenient(explicit?: string): Promise<{ config: Config; problem?: string }> {
  try {
    return { config: (await loadConfig(explicit)).config };
  } catch (err) {
    const problem = (err as Error).message;
    const raw = await loadRaw(explicit).then(
      (r) => r.raw,
      () => ({}) as Plain,
    );
    const assessment = isPlain(raw.assessment) ? raw.assessment : {};
    for (const candidate of [
      { bootState: raw.bootState, assessment: { deadline: assessment.deadline } },
      { bootState: raw.bootState },
      {},
    ]) {
      const r = configSchema.safeParse(candidate);
      if (r.success) return { config: r.data, problem };
    }
    throw err;
  }
}

async function loadRaw(explicit?: string): Promise<{ raw: Plain; files: string[] }> {
  if (explicit) return { raw: await readYaml(explicit, explicit), files: [explicit] };
  const files: string[] = [];
  let merged: Plain = {};
  const main = sysPath(DEFAULT_CONFIG);
  try {
    merged = await readYaml(main, DEFAULT_CONFIG);
    files.push(DEFAULT_CONFIG);
  } catch (err) {
    const exists = await lstat(main).then(
      () => true,
      () => false,
    );
    if (exists) throw err;
  }
  let dropins: string[] = [];
  try {
    dropins = (await readdir(sysPath(DEFAULT_CONFIG_DIR))).filter((f) => f.endsWith(".yaml")).sort();
  } catch {
    // no drop-in directory: nothing to merge
  }
  for (const f of dropins) {
    const shown = path.join(DEFAULT_CONFIG_DIR, f);
    merged = mergeConfig(merged, await readYaml(sysPath(shown), shown));
    files.push(shown);
  }
  return { raw: merged, files };
}

// The layer map: README's Layout table says which folders each folder may import from; every import in src/ (type
// imports too, and dynamic ones) must follow it. The checker is tested on an arrow that runs the wrong way first.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const REPO = path.resolve(import.meta.dirname, "../..");
const SRC = path.join(REPO, "src");

/** folder (or top-level file) -> what it may import from: folders, or files as "bootstate/types". */
function layoutMap(readme: string): Map<string, string[]> {
  const section = readme.slice(readme.indexOf("## Layout"), readme.indexOf("## Development"));
  const map = new Map<string, string[]>();
  for (const line of section.split("\n")) {
    const m = /^\| `src\/([^`]+?)\/?` \|.*\| ([^|]+) \|$/.exec(line);
    if (!m) continue;
    const allowed = m[2]!.trim();
    map.set(m[1]!, allowed === "nothing" ? [] : allowed.split(",").map((s) => s.trim()));
  }
  return map;
}

interface SourceFile {
  /** Relative to src/, e.g. "core/start.ts". */
  file: string;
  /** Import specifiers as written. */
  imports: string[];
}

function sources(dir = SRC): SourceFile[] {
  const out: SourceFile[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith(".ts")) {
      const text = readFileSync(p, "utf8");
      const imports = [...text.matchAll(/(?:from|import\()\s*"([^"]+)"/g)].map((m) => m[1]!);
      out.push({ file: path.relative(SRC, p), imports });
    }
  }
  return out;
}

const layerOf = (file: string) => (file.includes("/") ? file.split("/")[0]! : file);

/** Every import of a file in src/ that its folder's row does not allow, as "from -> to". */
function violations(files: SourceFile[], map: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const { file, imports } of files) {
    const from = layerOf(file);
    const allowed = map.get(from);
    if (!allowed) {
      out.push(`${file}: src/${from} has no row in README's Layout table`);
      continue;
    }
    for (const spec of imports) {
      if (!spec.startsWith(".")) continue; // packages and node: builtins
      const target = path.normalize(path.join(path.dirname(file), spec)).replace(/\.js$/, "");
      if (target.startsWith("..")) continue; // outside src/ (none today)
      const to = layerOf(target);
      if (to === from) continue;
      if (!allowed.some((a) => a === to || target === a || target.startsWith(`${a}/`)))
        out.push(`${file} imports ${spec}: src/${from} may import from ${allowed.join(", ") || "nothing"}`);
    }
  }
  return out;
}

describe("the layer map", () => {
  const map = layoutMap(readFileSync(path.join(REPO, "README.md"), "utf8"));

  it("README's table has a row for every folder of src/", () => {
    const folders = new Set(sources().map((f) => layerOf(f.file)));
    expect([...folders].sort()).toEqual([...map.keys()].sort());
  });

  it("the checker catches an arrow that runs the wrong way (core importing actions, a type from daemon)", () => {
    expect(
      violations(
        [
          {
            file: "core/start.ts",
            imports: ["../actions/rollback.js", "./assessment.js", "../bootstrap/types.js"],
          },
          { file: "actions/rollback.ts", imports: ["../daemon/ports.js", "../core/status.js"] },
          { file: "core/x.ts", imports: ["../bootstate/types.js", "../bootstate/registry.js"] },
        ],
        map,
      ),
    ).toEqual([
      "core/start.ts imports ../actions/rollback.js: src/core may import from base, config, bootstate/types",
      "core/start.ts imports ../bootstrap/types.js: src/core may import from base, config, bootstate/types",
      "actions/rollback.ts imports ../daemon/ports.js: src/actions may import from base, config, core, bootstate, systemd",
      "core/x.ts imports ../bootstate/registry.js: src/core may import from base, config, bootstate/types",
    ]);
  });

  it("every import in src/ follows it", () => {
    expect(violations(sources(), map)).toEqual([]);
  });
});

describe("files one can hold in one's head", () => {
  const lines = (file: string) => readFileSync(path.join(SRC, file), "utf8").split("\n").length - 1;

  it("no file under src/ is over 250 lines, the Daemon not over 200", () => {
    const long = sources()
      .map((f) => `${f.file}: ${lines(f.file)}`)
      .filter((l) => Number(l.split(": ")[1]) > 250);
    expect(long).toEqual([]);
    expect(lines("daemon/daemon.ts")).toBeLessThanOrEqual(200);
  });
});

describe("what the daemon's start loads", () => {
  /** The packages `file` imports statically, followed through our own modules, as compiled (type imports are gone). */
  function staticPackages(file: string, seen = new Set<string>(), out = new Set<string>()): Set<string> {
    if (seen.has(file)) return out;
    seen.add(file);
    for (const m of readFileSync(file, "utf8").matchAll(/^import\s+(?:[^"']*from\s+)?["']([^"']+)["']/gm)) {
      const spec = m[1]!;
      if (spec.startsWith(".")) staticPackages(path.resolve(path.dirname(file), spec), seen, out);
      else out.add(spec);
    }
    return out;
  }

  it("neither zod nor yaml (nor node-cron): the config cache spares them, and a value import from the schema would not", () => {
    // dist/, built by scripts/test.sh (npm run build) before this tier.
    const pkgs = staticPackages(path.join(REPO, "dist/commands/daemon.js"));
    expect(pkgs.has("dbus-next")).toBe(true); // the walk reaches the daemon's real imports
    expect([...pkgs].filter((p) => ["zod", "yaml", "node-cron"].includes(p))).toEqual([]);
  });
});

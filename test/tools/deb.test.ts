// The .deb by Debian's rules: lintian (no error; a run with an error fails CI here), the copyright in DEP-5 form with
// a paragraph for every npm package the bundle holds, dependencies from the addons' ELF headers, stripped addons
// that are not executable, no build-only files. Needs dpkg-deb, dpkg-shlibdeps, lintian (scripts/setup.sh).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BUNDLED_PACKAGES, REPO, requireTool, sh } from "../helpers/tools.js";

let deb: string;
beforeAll(() => {
  for (const t of ["dpkg-deb", "dpkg-shlibdeps", "lintian"]) requireTool(t);
  const r = spawnSync("bash", [path.join(REPO, "scripts/build/deb.sh")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`scripts/build/deb.sh failed: ${r.stderr}`);
  deb = path.join(REPO, r.stdout.trim().split("\n").pop()!);
}, 300_000);

const contents = () =>
  sh("dpkg-deb", ["-c", deb])
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(/\s+/).slice(5).join(" ").replace(/^\.\//, "/"));

describe("the .deb", () => {
  it("passes lintian with no error", () => {
    const r = spawnSync("lintian", ["--tag-display-limit", "0", deb], { encoding: "utf8" });
    const tags = r.stdout.split("\n").filter((l) => /^[EW]: /.test(l));
    expect(tags.filter((t) => t.startsWith("E: "))).toEqual([]);
    expect(r.status).toBe(0);
  });

  it("depends on the libraries its native addons link against, found by dpkg-shlibdeps", () => {
    const depends = sh("dpkg-deb", ["-f", deb, "Depends"]);
    expect(depends).toMatch(/\blibc6 \(>= [\d.]+\)/);
    expect(depends).toMatch(/\blibsystemd0\b/);
    expect(depends).toMatch(/^nodejs \(>= 20\.19\)/);
  });

  it("ships the copyright in DEP-5 form with every bundled package's licence, and no build-only file", () => {
    const dir = sh("mktemp", ["-d"]).trim();
    try {
      sh("dpkg-deb", ["-x", deb, dir]);
      const copyright = sh("cat", [path.join(dir, "usr/share/doc/bootwarden/copyright")]);
      expect(copyright).toMatch(
        /^Format: https:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.0\/$/m,
      );
      for (const p of BUNDLED_PACKAGES)
        expect(copyright, p).toMatch(new RegExp(`^Comment: .*: ${p} \\d`, "m"));
      const files = contents();
      const built = files.filter((f) => /\.(o|h|cc|gyp|gypi|mk)$|\/Makefile$|\/\.github\/|\/nan\//.test(f));
      expect(built).toEqual([]);
      const addons = files.filter((f) => f.endsWith(".node"));
      expect(addons).toHaveLength(3);
      for (const a of addons) {
        const f = path.join(dir, a);
        expect(sh("stat", ["-c", "%a", f]).trim(), a).toBe("644");
        expect(sh("readelf", ["-S", f]), a).not.toMatch(/\.symtab/);
      }
    } finally {
      sh("rm", ["-rf", dir]);
    }
  });
});

// The command line as an operator meets it: the version, one-line usage errors with a way on, the exit statuses.

import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CLI, cli, makeFlatcarDisk, tempDir, writeConfig } from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const oneLine = (r: { status: number; stderr: string; stdout: string }, status: number, line: string) => {
  expect(r.stderr).toBe(`bootwarden: ${line}\n`);
  expect(r.stdout).toBe("");
  expect(r.status).toBe(status);
};

describe("the command line", () => {
  it("says its version with --version and version", () => {
    for (const args of [["--version"], ["version"]]) {
      const r = cli(args);
      expect(r).toMatchObject({ status: 0, stdout: "bootwarden 0.1.0\n", stderr: "" });
    }
    expect(cli(["--help"]).stdout).toMatch(/^bootwarden 0\.1\.0\nusage: bootwarden <command>/);
  });

  it("a mistyped option or command is one line with a way on, exit 2", () => {
    oneLine(cli(["status", "--jsn"]), 2, "unknown option --jsn; see bootwarden --help");
    oneLine(
      cli(["mark", "good"]),
      2,
      'unknown command "mark"; did you mean mark-good or mark-bad? (see bootwarden --help)',
    );
    oneLine(cli(["statsu"]), 2, 'unknown command "statsu"; did you mean status? (see bootwarden --help)');
    oneLine(cli(["frobnicate"]), 2, 'unknown command "frobnicate" (see bootwarden --help)');
    oneLine(cli(["arm", "--slot"]), 2, "option --slot needs a value; see bootwarden --help");
    oneLine(
      cli(["history", "--config", "x"]),
      2,
      "history: option --config does not apply; see bootwarden --help",
    );
  });

  it("an argument of the wrong form is usage (2); a configuration that cannot be read is 78", () => {
    const disk = path.join(dir, "disk.img");
    makeFlatcarDisk(disk);
    const cfg = writeConfig(dir, `bootState:\n  backend: gpt\n  disk: ${disk}\n  booted: PARTLABEL=USR-A\n`);
    oneLine(
      cli(["arm", "--slot", "USR-B", "--config", cfg]),
      2,
      "gpt: --slot USR-B: must be PARTLABEL=<label> or PARTUUID=<guid>",
    );
    oneLine(
      cli(["arm", "--slot", "PARTLABEL=USR-B", "--tries", "99", "--config", cfg]),
      2,
      "gpt: --tries 99: must be 1..15",
    );
    oneLine(
      cli(["status", "--config", path.join(dir, "nope.yaml")]),
      78,
      `config: ${path.join(dir, "nope.yaml")}: cannot read: ENOENT`,
    );
  });

  it("what writes the boot state says it needs root, exit 77, before touching anything", () => {
    for (const cmd of ["mark-good", "mark-bad", "arm"]) {
      const r = spawnSync(
        "setpriv",
        [
          "--reuid=65534",
          "--regid=65534",
          "--clear-groups",
          process.execPath,
          CLI,
          cmd,
          "--config",
          "/nonexistent",
        ],
        { encoding: "utf8" },
      );
      oneLine(
        { status: r.status ?? -1, stderr: r.stderr, stdout: r.stdout },
        77,
        `${cmd} needs root: it writes the boot state`,
      );
    }
  });

  it("history as a user: the records are root's, so it says so (exit 77), never that there are none", () => {
    mkdirSync(path.join(dir, "var/lib/bootwarden"), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dir, "var/lib/bootwarden/history.json"), "[]");
    chmodSync(dir, 0o755);
    chmodSync(path.join(dir, "var"), 0o755);
    chmodSync(path.join(dir, "var/lib"), 0o755);
    const r = spawnSync(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLI, "history"],
      { encoding: "utf8", env: { ...process.env, BOOTWARDEN_ROOT: dir } },
    );
    oneLine(
      { status: r.status ?? -1, stderr: r.stderr, stdout: r.stdout },
      77,
      "history needs root: /var/lib/bootwarden is readable by root only",
    );
  });
});

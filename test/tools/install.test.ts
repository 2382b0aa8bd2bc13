import { spawnSync } from "node:child_process";
import { lstatSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REPO, requireTool, sh, tempDir } from "../helpers/tools.js";

// scripts/install.sh into a DESTDIR: what it puts where, that it keeps a user's config, and that uninstall removes it.
let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());
// lstat: the enablement links point at /usr/lib/... inside DESTDIR, which does not resolve from outside it.
const existsSync = (f: string) => {
  try {
    lstatSync(f);
    return true;
  } catch {
    return false;
  }
};
const install = (...args: string[]) =>
  sh("bash", ["-c", `DESTDIR=${dir} PREFIX=/usr bash ${REPO}/scripts/install.sh ${args.join(" ")}`]);

describe("scripts/install.sh", () => {
  it("installs man pages that man renders without a warning: bootwarden(8) and bootwarden.yaml(5)", () => {
    requireTool("man");
    install();
    for (const [f, title] of [
      ["usr/share/man/man8/bootwarden.8", /^BOOTWARDEN\(8\)/],
      ["usr/share/man/man5/bootwarden.yaml.5", /^BOOTWARDEN\.YAML\(5\)/],
    ] as const) {
      const r = spawnSync("man", ["-l", path.join(dir, f)], {
        encoding: "utf8",
        env: { ...process.env, MANPAGER: "cat", MANWIDTH: "100", LC_ALL: "C.UTF-8" },
      });
      expect(r.status, f).toBe(0);
      expect(r.stdout.trim()).toMatch(title);
      expect(r.stdout).toMatch(/^NAME\n\s+bootwarden/m);
      expect(r.stdout).toMatch(/^SEE ALSO$/m);
      // groff's own warnings (bad requests, unknown fonts or escapes): none.
      const lint = spawnSync("groff", ["-ww", "-z", "-man", path.join(dir, f)], { encoding: "utf8" });
      expect(lint.stderr, f).toBe("");
    }
    expect(readFileSync(path.join(dir, "usr/lib/systemd/system/bootwarden.service"), "utf8")).toMatch(
      /^Documentation=man:bootwarden\(8\) /m,
    );
  });

  it("installs the daemon, units, catalog, tmpfiles, GRUB snippet and config; enables the units", () => {
    install("--enable");
    for (const f of [
      "usr/bin/bootwarden",
      "usr/lib/bootwarden/bootwarden.mjs",
      "usr/lib/bootwarden/node_modules/systemd-journald/build/Release/journal_send.node",
      "usr/lib/bootwarden/node_modules/unix-dgram/build/Release/unix_dgram.node",
      "usr/lib/bootwarden/native/bootwarden.node",
      "usr/lib/systemd/system/bootwarden.service",
      "usr/lib/systemd/system/bootwarden-backstop.timer",
      "usr/lib/systemd/system/bootwarden-catalog.service",
      "usr/lib/systemd/catalog/bootwarden.catalog",
      "usr/share/man/man8/bootwarden.8",
      "usr/share/man/man5/bootwarden.yaml.5",
      "usr/lib/tmpfiles.d/bootwarden.conf",
      "usr/share/dbus-1/system.d/io.github.bootwarden1.conf",
      "usr/share/polkit-1/actions/io.github.bootwarden1.policy",
      "usr/share/bootwarden/grub/08_bootwarden_counting",
      "usr/share/bootwarden/schema/config.schema.json",
      "etc/bootwarden/config.yaml",
      "etc/systemd/system/multi-user.target.wants/bootwarden.service",
      "etc/systemd/system/boot-complete.target.requires/bootwarden-verdict.service",
      "etc/systemd/system/timers.target.wants/bootwarden-backstop.timer",
    ]) {
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    }
    // beside the bundle only the native addons: no development dependencies, no bundled library twice
    for (const p of ["vitest", "node-gyp", "dbus-next", "zod"])
      expect(existsSync(path.join(dir, "usr/lib/bootwarden/node_modules", p)), p).toBe(false);
    // systemd execs node itself, no shell wrapper on the daemon's start
    const unit = readFileSync(path.join(dir, "usr/lib/systemd/system/bootwarden.service"), "utf8");
    expect(unit).toMatch(
      /^ExecStart=node --no-memory-reducer \/usr\/lib\/bootwarden\/bootwarden\.mjs daemon$/m,
    );
    expect(unit).not.toMatch(/\/usr\/bin\/bootwarden/);
    // the installed CLI runs from its own tree
    const out = sh("bash", [
      "-c",
      `BOOTWARDEN_ROOT=${dir} node ${dir}/usr/lib/bootwarden/bootwarden.mjs check-config`,
    ]);
    expect(out).toMatch(/config OK/);
  });

  it("keeps an existing config, and uninstall --purge removes everything it installed", () => {
    install();
    writeFileSync(path.join(dir, "etc/bootwarden/config.yaml"), "bootState:\n  backend: grubenv\n");
    install("--enable");
    expect(readFileSync(path.join(dir, "etc/bootwarden/config.yaml"), "utf8")).toBe(
      "bootState:\n  backend: grubenv\n",
    );
    install("--uninstall");
    expect(existsSync(path.join(dir, "usr/lib/bootwarden"))).toBe(false);
    expect(existsSync(path.join(dir, "etc/systemd/system/multi-user.target.wants/bootwarden.service"))).toBe(
      false,
    );
    expect(existsSync(path.join(dir, "etc/bootwarden/config.yaml"))).toBe(true);
    install("--uninstall", "--purge");
    expect(existsSync(path.join(dir, "etc/bootwarden"))).toBe(false);
    expect(sh("find", [dir, "-mindepth", "1", "-name", "*bootwarden*"]).trim()).toBe("");
  });
});

// The .rpm for greenboot's home (Fedora IoT, RHEL for Edge), built with rpmbuild and read back with rpm -qp.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO, requireTool, sh } from "../helpers/tools.js";

let rpm: string;
const q = (...args: string[]) => sh("rpm", ["-qp", ...args, rpm]);

beforeAll(() => {
  requireTool("rpmbuild");
  const r = spawnSync("bash", [path.join(REPO, "scripts/build/rpm.sh")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`build-rpm.sh failed: ${r.stderr}`);
  rpm = path.join(REPO, r.stdout.trim().split("\n").pop()!);
}, 300_000);

describe("the rpm", () => {
  it("names itself, its architecture and what it needs", () => {
    expect(q("--queryformat", "%{NAME} %{VERSION}-%{RELEASE} %{ARCH}")).toMatch(
      /^bootwarden 0\.1\.0-1 x86_64$/,
    );
    const req = q("--requires").split("\n");
    // libsystemd, libc and libstdc++ from rpm's scan of the native addons, not written by hand.
    expect(req).toEqual(
      expect.arrayContaining([
        "nodejs >= 20.19",
        "systemd",
        "libsystemd.so.0()(64bit)",
        "libc.so.6()(64bit)",
      ]),
    );
  });

  it("passes rpmlint (with packaging/rpm/rpmlintrc.toml: Fedora's licence list and gzip; unsigned)", () => {
    requireTool("rpmlint");
    const r = spawnSync("rpmlint", ["-c", path.join(REPO, "packaging/rpm/rpmlintrc.toml"), rpm], {
      encoding: "utf8",
    });
    expect(r.stdout).toMatch(/ 0 errors, /);
    expect(r.stdout).not.toMatch(/: E: /);
    expect(r.status).toBe(0);
  });

  it("holds the CLI, the daemon, every unit, the catalog and tmpfiles; the config is %config(noreplace)", () => {
    const files = q("--list").split("\n");
    for (const f of [
      "/usr/bin/bootwarden",
      "/usr/lib/bootwarden/bootwarden.mjs",
      "/usr/lib/systemd/system/bootwarden.service",
      "/usr/lib/systemd/system/bootwarden-verdict.service",
      "/usr/lib/systemd/system/bootwarden-healthy.path",
      "/usr/lib/systemd/system/bootwarden-healthy.target",
      "/usr/lib/systemd/system/bootwarden-backstop.timer",
      "/usr/lib/systemd/system/bootwarden-backstop.service",
      "/usr/lib/systemd/system/bootwarden-catalog.service",
      "/usr/share/man/man8/bootwarden.8.gz",
      "/usr/share/man/man5/bootwarden.yaml.5.gz",
      "/usr/lib/systemd/catalog/bootwarden.catalog",
      "/usr/lib/tmpfiles.d/bootwarden.conf",
      "/usr/share/dbus-1/system.d/io.github.bootwarden1.conf",
      "/usr/share/polkit-1/actions/io.github.bootwarden1.policy",
    ])
      expect(files, f).toContain(f);
    expect(q("--configfiles").trim()).toBe("/etc/bootwarden/config.yaml");
    expect(q("--queryformat", "[%{FILENAMES} %{FILEFLAGS:fflags}\\n]")).toMatch(
      /^\/etc\/bootwarden\/config\.yaml cn$/m,
    );
  });

  it("systemd's scriptlets (%systemd_post/preun/postun_with_restart): preset on first install, disable on removal, restart on upgrade", () => {
    const scripts = q("--scripts");
    const section = (name: string) =>
      scripts.split(/^(?=\w+ scriptlet)/m).find((s) => s.startsWith(name)) ?? "";
    expect(section("postinstall")).toMatch(
      /if \[ \$1 -eq 1 \] ; then\s+# Initial installation\s+systemctl --no-reload preset bootwarden\.service bootwarden-verdict\.service bootwarden-healthy\.path bootwarden-backstop\.timer /,
    );
    expect(section("preuninstall")).toMatch(
      /if \[ \$1 -eq 0 \] ; then\s+# Package removal, not upgrade\s+systemctl --no-reload disable --now bootwarden-backstop\.timer /,
    );
    expect(section("postuninstall")).toMatch(
      /if \[ \$1 -ge 1 \] ; then\s+# Package upgrade, not uninstall\s+systemctl try-restart bootwarden\.service /,
    );
    // The preset the first install applies enables exactly what install.sh --enable enables.
    expect(q("--list")).toMatch(/^\/usr\/lib\/systemd\/system-preset\/80-bootwarden\.preset$/m);
  });
});

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
    expect(req).toEqual(expect.arrayContaining(["nodejs >= 20.19", "systemd", "systemd-libs"]));
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

  it("enables the units on first install only, disables them on removal, reloads systemd", () => {
    const scripts = q("--scripts");
    const section = (name: string) =>
      scripts.split(/^(?=\w+ scriptlet)/m).find((s) => s.startsWith(name)) ?? "";
    expect(section("postinstall")).toMatch(
      /if \[ \$1 -eq 1 \]; then\n\s+systemctl --no-reload enable bootwarden\.service bootwarden-verdict\.service bootwarden-healthy\.path bootwarden-backstop\.timer/,
    );
    expect(section("preuninstall")).toMatch(
      /if \[ \$1 -eq 0 \]; then\n\s+systemctl --no-reload disable --now /,
    );
    expect(section("postuninstall")).toMatch(/systemctl daemon-reload/);
  });
});

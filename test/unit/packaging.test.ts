// The unit files' [Install] sections are written out by hand where `systemctl enable` cannot run (the units only
// appear once the sysext is merged): in scripts/install-sysext.sh and in the Flatcar Butane config. They must agree.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const repo = new URL("../../", import.meta.url);
const read = (p: string) => readFileSync(new URL(p, repo), "utf8");

/** unit -> ["multi-user.target.wants", ...] from the [Install] sections of units/. */
function installLinks(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const unit of readdirSync(new URL("units/", repo))) {
    const install = read(`units/${unit}`).split("[Install]")[1];
    if (!install) continue;
    const links: string[] = [];
    for (const m of install.matchAll(/^(WantedBy|RequiredBy)=(.+)$/gm))
      for (const t of m[2]!.trim().split(/\s+/))
        links.push(`${t}.${m[1] === "WantedBy" ? "wants" : "requires"}`);
    out.set(unit, links);
  }
  return out;
}

describe("enablement written by hand matches the units' [Install] sections", () => {
  const links = installLinks();

  it("the units that are enabled are the four the packages enable", () => {
    expect([...links.keys()].sort()).toEqual([
      "bootwarden-backstop.timer",
      "bootwarden-healthy.path",
      "bootwarden-verdict.service",
      "bootwarden.service",
    ]);
  });

  it("the Flatcar Butane config links each of them, and holds update-engine back until the verdict", () => {
    const bu = parse(read("packaging/flatcar/bootwarden.bu")) as {
      variant: string;
      storage: { links: { path: string; target: string }[]; files: { path: string }[] };
      systemd: { units: { name: string; dropins: { contents: string }[] }[] };
    };
    expect(bu.variant).toBe("flatcar");
    const paths = bu.storage.links.map((l) => `${l.path} -> ${l.target}`);
    for (const [unit, dirs] of links)
      for (const d of dirs)
        expect(paths).toContain(`/etc/systemd/system/${d}/${unit} -> /usr/lib/systemd/system/${unit}`);
    expect(paths).toContain(
      "/etc/extensions/bootwarden.raw -> /opt/extensions/bootwarden/bootwarden-0.1.0-x86-64.raw",
    );
    // The shipped drop-in, the same text: no Requires= (a missing or failed unit must not block updates).
    const ue = bu.systemd.units.find((u) => u.name === "update-engine.service");
    expect(ue?.dropins[0]?.contents).toBe(
      read("packaging/flatcar/update-engine.service.d/10-bootwarden.conf"),
    );
    expect(ue?.dropins[0]?.contents).not.toMatch(/^Requires=/m);
    expect(
      (bu.storage.files[0] as { contents?: { verification?: { hash?: string } } }).contents?.verification,
    ).toEqual({
      hash: "sha512-@IMAGE_SHA512@",
    });
  });

  it("install-sysext.sh links each of them", () => {
    const script = read("scripts/install-sysext.sh");
    for (const [unit, dirs] of links)
      for (const d of dirs) {
        const [target, kind] = [d.slice(0, d.lastIndexOf(".")), d.slice(d.lastIndexOf(".") + 1)];
        expect(script).toContain(`wants ${unit} ${target} ${kind}`);
      }
  });
});

describe("the journal catalog", () => {
  it("explains every MESSAGE_ID bootwarden logs, once, and nothing else", async () => {
    const { MessageId } = await import("../../src/base/message-ids.js");
    const ids = [...read("packaging/catalog/bootwarden.catalog").matchAll(/^-- ([0-9a-f]{32})$/gm)].map(
      (m) => m[1],
    );
    expect([...ids].sort()).toEqual(Object.values(MessageId).sort());
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("the version", () => {
  it("is package.json's, where the CLI says it", async () => {
    const { VERSION } = await import("../../src/base/version.js");
    expect(VERSION).toBe(JSON.parse(read("package.json")).version);
  });
});

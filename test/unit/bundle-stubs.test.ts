// The bundles replace three of dbus-next's dependencies (scripts/build/stubs/): node:assert and node:crypto loaded on
// first use, xml2js refused. Bundled with the bundles' own options and run against a private dbus-daemon: the
// handshake (EXTERNAL, so crypto stays unloaded), a variant marshalled and read back (assert, through its stub),
// and introspection refused in one line.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM build script, no types
import { bundleOptions } from "../../scripts/build/bundle.mjs";

const REPO = path.resolve(import.meta.dirname, "../..");
let dir: string;
let daemon: ReturnType<typeof spawn>;
let address: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "bw-stubs-"));
  writeFileSync(
    path.join(dir, "bus.conf"),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${dir}/bus</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*"/><allow own="*"/><allow receive_sender="*"/></policy></busconfig>`,
  );
  daemon = spawn("dbus-daemon", [`--config-file=${dir}/bus.conf`, "--nofork", "--print-address"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  address = await new Promise<string>((resolve, reject) => {
    daemon.once("error", reject);
    daemon.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim()));
  });
  writeFileSync(
    path.join(dir, "entry.mjs"),
    `import dbus from "dbus-next";
const { Message, MessageType, Variant } = dbus;
const bus = dbus.sessionBus({ busAddress: process.env.BUS });
const call = (member, sig, body) => bus.call(new Message({ destination: "org.freedesktop.DBus",
  path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member, signature: sig, body }));
await call("AddMatch", "s", ["type='signal',interface='test.Bw'"]);
const got = new Promise((r) => bus.on("message", (m) => m.interface === "test.Bw" && r(m.body[0].value)));
bus.send(new Message({ type: MessageType.SIGNAL, path: "/test", interface: "test.Bw", member: "Ping",
  signature: "v", body: [new Variant("s", "pong")] }));
let introspect = "ok";
try { await bus.getProxyObject("org.freedesktop.DBus", "/org/freedesktop/DBus"); } catch (e) { introspect = e.message; }
console.log(JSON.stringify({ got: await got, introspect, crypto: process.moduleLoadList.filter((m) => /crypto/.test(m)) }));
bus.disconnect();
`,
  );
  await build({
    ...bundleOptions(path.join(dir, "out"), "node20", [path.join(dir, "entry.mjs")]),
    nodePaths: [path.join(REPO, "node_modules")],
  });
}, 60_000);
afterAll(() => {
  daemon?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("the bundles' stubs for dbus-next", () => {
  it("a bundled dbus-next talks to a real bus: variant marshalled, crypto never loaded, introspection refused", () => {
    const out = execFileSync(process.execPath, [path.join(dir, "out/bootwarden.mjs")], {
      encoding: "utf8",
      env: { ...process.env, BUS: address },
      timeout: 20_000,
    });
    expect(JSON.parse(out)).toEqual({
      got: "pong",
      introspect:
        "bootwarden's bundle has no XML parser: D-Bus introspection (getProxyObject) is not available",
      crypto: [],
    });
  });
});

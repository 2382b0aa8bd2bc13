// systemd/direct.ts against a peer of our own on a Unix socket that speaks the D-Bus wire protocol as PID 1's private
// socket does (EXTERNAL auth, no bus, no Hello): what is dropped before unmarshalling, replies, errors, frames split
// across reads, and the link coming back after the peer closed it (daemon-reexec). Real systemd: test/system.
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import dbus from "dbus-next";
import { marshallMessage, messageToJsFmt } from "dbus-next/lib/marshall-compat.js";
import { unmarshall } from "dbus-next/lib/message.js";
import { afterEach, describe, expect, it } from "vitest";
import { DirectLink } from "../../src/systemd/direct.js";

const { Message, Variant, MessageType } = dbus;
type Msg = InstanceType<typeof Message>;
const UNIT = "/org/freedesktop/systemd1/unit/";
let serial = 1000;
const wire = (m: Msg) => marshallMessage({ ...m, serial: serial++, flags: 0 })[0];
const props = (unitPath: string, state: string) =>
  Message.newSignal(unitPath, "org.freedesktop.DBus.Properties", "PropertiesChanged", "sa{sv}as", [
    "org.freedesktop.systemd1.Unit",
    { ActiveState: new Variant("s", state) },
    [],
  ]);
const jobRemoved = (unit: string) =>
  Message.newSignal("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", [
    7,
    "/org/freedesktop/systemd1/job/7",
    unit,
    "done",
  ]);

/** A peer that accepts EXTERNAL auth and answers each call through `answer`; `peers` are its open connections. */
function fakePid1(answer: (call: Msg) => Msg | undefined) {
  const socketPath = path.join(mkdtempSync(path.join(tmpdir(), "bw-direct-")), "private");
  const peers: net.Socket[] = [];
  const auths: string[] = [];
  const server = net.createServer((s) => {
    peers.push(s);
    let authed = false;
    let buf = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!authed) {
        const text = buf.toString("latin1");
        if (!text.includes("BEGIN\r\n")) {
          if (text.includes("AUTH EXTERNAL") && text.endsWith("\r\n") && !text.includes("OK")) {
            auths.push(text);
            s.write("OK 0123456789abcdef0123456789abcdef\r\n");
          }
          return;
        }
        authed = true;
        buf = buf.subarray(buf.indexOf("BEGIN\r\n") + 7);
      }
      while (buf.length >= 16) {
        const flen = buf.readUInt32LE(12);
        const len = 16 + ((flen + 7) & ~7) + buf.readUInt32LE(4);
        if (buf.length < len) break;
        const call = new Message(messageToJsFmt(unmarshall(buf.subarray(0, len))) as never);
        buf = buf.subarray(len);
        const reply = answer(call);
        if (!reply) continue;
        reply.replySerial = call.serial as never;
        s.write(wire(reply));
      }
    });
  });
  server.listen(socketPath);
  return { socketPath, peers, auths, server };
}

const links: DirectLink[] = [];
const servers: net.Server[] = [];
afterEach(() => {
  for (const l of links.splice(0)) l.disconnect();
  for (const s of servers.splice(0)) s.close();
});

async function connected(
  answer: (call: Msg) => Msg | undefined = (c) => Message.newMethodReturn(c, "s", ["ok"]),
) {
  const peer = fakePid1(answer);
  servers.push(peer.server);
  const seen: Msg[] = [];
  const link = new DirectLink(
    (p, member, unit) =>
      member === "PropertiesChanged"
        ? p === `${UNIT}app_2eservice`
        : member === "JobRemoved" && unit === "app.service",
    peer.socketPath,
  );
  links.push(link);
  link.on("message", (m) => seen.push(m));
  await link.connect();
  await until(() => peer.peers.length === 1);
  return { link, peer, seen, pid1: () => peer.peers.at(-1) as net.Socket };
}

async function until(ok: () => boolean) {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
}

describe("DirectLink", () => {
  it("authenticates as its own uid and delivers only the signals it wants, unmarshalled", async () => {
    const { peer, seen, pid1 } = await connected();
    expect(peer.auths[0]).toBe(
      `\0AUTH EXTERNAL ${Buffer.from(String(process.getuid?.())).toString("hex")}\r\n`,
    );
    pid1().write(
      Buffer.concat([
        wire(props(`${UNIT}other_2eservice`, "active")),
        wire(jobRemoved("other.service")),
        wire(props(`${UNIT}app_2eservice`, "active")),
        wire(jobRemoved("app.service")),
      ]),
    );
    await until(() => seen.length === 2);
    expect(seen[0]?.path).toBe(`${UNIT}app_2eservice`);
    const changed = (seen[0]?.body ?? [])[1] as Record<string, InstanceType<typeof Variant>>;
    expect(changed.ActiveState?.value).toBe("active");
    expect(seen[1]?.member).toBe("JobRemoved");
    expect(seen[1]?.body[2]).toBe("app.service");
  });

  it("puts a message together from reads that split it anywhere", async () => {
    const { seen, pid1 } = await connected();
    const bytes = Buffer.concat([
      wire(props(`${UNIT}app_2eservice`, "activating")),
      wire(jobRemoved("app.service")),
    ]);
    const first = wire(props(`${UNIT}app_2eservice`, "x")).length - 1; // "x" for "activating": 9 bytes shorter
    for (const cut of [3, 17, 40, bytes.length - 5]) {
      seen.length = 0;
      pid1().write(bytes.subarray(0, cut));
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toHaveLength(cut > first ? 1 : 0);
      pid1().write(bytes.subarray(cut));
      await until(() => seen.length === 2);
    }
  });

  it("reads the same messages whatever the chunks the stream comes in", () => {
    const frames = [
      wire(props(`${UNIT}other_2eservice`, "active")),
      wire(props(`${UNIT}app_2eservice`, "activating")),
      wire(jobRemoved("other.service")),
      wire(jobRemoved("app.service")),
      wire(props(`${UNIT}app_2eservice`, "active")),
    ];
    const all = Buffer.concat(frames);
    for (const size of [1, 2, 7, 16, 17, 100, frames[0]?.length ?? 0, all.length]) {
      const got: string[] = [];
      const link = new DirectLink(
        (p, _member, unit) => p.endsWith("app_2eservice") || unit === "app.service",
      );
      link.on("message", (m) => got.push(`${m.member} ${m.path}`));
      for (let at = 0; at < all.length; at += size) expect(link.read(all.subarray(at, at + size))).toBe(true);
      expect(got).toEqual([
        `PropertiesChanged ${UNIT}app_2eservice`,
        "JobRemoved /org/freedesktop/systemd1",
        `PropertiesChanged ${UNIT}app_2eservice`,
      ]);
    }
  });

  it("answers each call with its own reply, and an error reply as a DBusError with its name", async () => {
    const { link } = await connected((c) =>
      c.member === "Fail"
        ? Message.newError(c as never, "org.freedesktop.systemd1.NoSuchUnit", "Unit x.service not loaded.")
        : c.member === "Empty"
          ? Message.newMethodReturn(c)
          : Message.newMethodReturn(c, "s", [`${c.member} answered`]),
    );
    const call = (member: string) =>
      link.call(
        new Message({
          destination: "org.freedesktop.systemd1",
          path: "/org/freedesktop/systemd1",
          interface: "org.freedesktop.systemd1.Manager",
          member,
          signature: "s",
          body: ["x"], // a body: this peer's unmarshalling needs one
        }),
      );
    const [a, b] = await Promise.all([call("A"), call("B")]);
    expect(a.body).toEqual(["A answered"]);
    expect(b.body).toEqual(["B answered"]);
    expect(a.type).toBe(MessageType.METHOD_RETURN);
    expect((await call("Empty")).body).toEqual([]); // a reply with no body (ResetFailedUnit's)
    await expect(call("Fail")).rejects.toMatchObject({
      type: "org.freedesktop.systemd1.NoSuchUnit",
      message: "Unit x.service not loaded.",
    });
  });

  it("comes back after the peer closes it (daemon-reexec), failing the call in flight", async () => {
    const { link, peer, seen, pid1 } = await connected(() => undefined); // never a reply
    let back = 0;
    link.on("reconnected", () => back++);
    const inFlight = link.call(
      new Message({
        destination: "org.freedesktop.systemd1",
        path: "/org/freedesktop/systemd1",
        interface: "org.freedesktop.systemd1.Manager",
        member: "Wait",
        signature: "s",
        body: ["x"],
      }),
    );
    inFlight.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    pid1().destroy();
    await expect(inFlight).rejects.toMatchObject({ type: "org.freedesktop.DBus.Error.Disconnected" });
    await until(() => back === 1 && peer.peers.length === 2);
    pid1().write(wire(props(`${UNIT}app_2eservice`, "active")));
    await until(() => seen.length === 1);
  });

  it("a message it cannot read ends the connection: the call fails, the link comes back", async () => {
    const { link, peer, pid1 } = await connected(() => undefined);
    let back = 0;
    link.on("reconnected", () => back++);
    const call = link.call(
      new Message({
        destination: "org.freedesktop.systemd1",
        path: "/org/freedesktop/systemd1",
        interface: "org.freedesktop.systemd1.Manager",
        member: "A",
        signature: "s",
        body: ["x"],
      }),
    );
    call.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    const reply = Message.newMethodReturn(new Message({ ...props("/a", "x"), serial: 1 } as never), "u", [1]);
    const bytes = wire(reply);
    const sig = bytes.indexOf(Buffer.from([8, 1, 0x67, 0, 1, 0x75, 0])); // SIGNATURE "u"
    expect(sig).toBeGreaterThan(0);
    bytes[sig + 5] = 0x7a; // "z": no such type
    pid1().write(bytes);
    await expect(call).rejects.toMatchObject({ type: "org.freedesktop.DBus.Error.Disconnected" });
    await until(() => back === 1 && peer.peers.length === 2);
  });

  it("rejects with the socket's own error where there is no socket", async () => {
    const link = new DirectLink(() => true, path.join(tmpdir(), "bw-direct-none", "private"));
    await expect(link.connect()).rejects.toMatchObject({ code: "ENOENT" });
  });
});

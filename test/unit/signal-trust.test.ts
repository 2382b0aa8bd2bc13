import type dbus from "dbus-next";
import { describe, expect, it } from "vitest";
import { SignalTrust } from "../../src/systemd/signal-trust.js";

type Msg = InstanceType<typeof dbus.Message>;
const signal = (sender: string, member = "PropertiesChanged") =>
  ({ sender, member, interface: "org.freedesktop.DBus.Properties", path: "/u", body: [] }) as unknown as Msg;

function gate() {
  const delivered: string[] = [];
  const foreign: string[] = [];
  const t = new SignalTrust(
    (m) => delivered.push(`${m.sender} ${m.member}`),
    (sender) => foreign.push(sender),
  );
  return { t, delivered, foreign };
}

describe("SignalTrust", () => {
  it("holds signals until systemd's owner is known, then delivers systemd's and reports the others", () => {
    const { t, delivered, foreign } = gate();
    t.receive(signal(":1.1"));
    t.receive(signal(":1.66"));
    t.receive(signal("org.freedesktop.DBus", "NameOwnerChanged"));
    expect(delivered).toEqual(["org.freedesktop.DBus NameOwnerChanged"]);
    expect(foreign).toEqual([]);
    t.ownerIs(":1.1");
    expect(delivered).toEqual(["org.freedesktop.DBus NameOwnerChanged", ":1.1 PropertiesChanged"]);
    expect(foreign).toEqual([":1.66"]);
    t.receive(signal(":1.66"));
    t.receive(signal(":1.1"));
    expect(foreign).toEqual([":1.66", ":1.66"]);
    expect(delivered).toHaveLength(3);
  });

  it("does not take NameOwnerChanged from systemd's connection, only from the bus", () => {
    const { t, delivered, foreign } = gate();
    t.ownerIs(":1.1");
    t.receive(signal(":1.1", "NameOwnerChanged"));
    expect(delivered).toEqual([]);
    expect(foreign).toEqual([":1.1"]);
  });

  it("holds a bounded number: past the limit a signal is judged at once, with no owner known, so foreign", () => {
    const { t, delivered, foreign } = gate();
    for (let i = 0; i < 5000; i++) t.receive(signal(":1.66"));
    expect(foreign).toHaveLength(5000 - 4096);
    t.ownerIs(":1.1");
    expect(foreign).toHaveLength(5000);
    expect(delivered).toEqual([]);
  });

  it("a new owner (NameOwnerChanged) counts at once, and the old one no longer", () => {
    const { t, delivered, foreign } = gate();
    t.ownerIs(":1.1");
    t.ownerIs(":1.9");
    t.receive(signal(":1.1"));
    t.receive(signal(":1.9"));
    expect(foreign).toEqual([":1.1"]);
    expect(delivered).toEqual([":1.9 PropertiesChanged"]);
  });
});

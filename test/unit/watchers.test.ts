import { describe, expect, it } from "vitest";
import type { Observation } from "../../src/core/assessment.js";
import type { PropertyBag } from "../../src/core/unit-rules.js";
import { SERVICE_IFACE, UNIT_IFACE } from "../../src/systemd/api.js";
import { unitNameOfPath, unitPath } from "../../src/systemd/names.js";
import { FailedUnitsWatcher } from "../../src/watch/failed-units.js";
import { UnitWatcher } from "../../src/watch/units.js";
import { FakeSystemd } from "../fakes/fake-systemd.js";

/** Counts the round trips a watcher makes, and can hold them, as systemd does during a start burst. */
class CountingSystemd extends FakeSystemd {
  reads = 0;
  gets = 0;
  hold?: Promise<void>;
  override async readUnit(name: string) {
    this.reads++;
    await this.hold;
    return super.readUnit(name);
  }
  override async managerProperty(name: string) {
    if (name === "NFailedUnits") this.gets++;
    await this.hold;
    return super.managerProperty(name);
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));
const rethrow = (e: Error) => {
  throw e;
};

/** A started UnitWatcher over `units`, and what it observed, by check id. */
async function watching(s: FakeSystemd, units: ConstructorParameters<typeof UnitWatcher>[1]) {
  const seen: [string, Observation][] = [];
  const w = new UnitWatcher(s, units, (id, o) => seen.push([id, o]), rethrow);
  await w.start();
  return { seen, last: () => seen.at(-1)?.[1], all: () => seen.map(([, o]) => o) };
}

describe("UnitWatcher round trips", () => {
  it("subscribes to the watched units before reading them, and merges signals without re-reading", async () => {
    const s = new CountingSystemd();
    const { last } = await watching(s, [{ id: "unit:app.service", name: "app.service" }]);
    expect(s.watched).toEqual(["app.service"]);
    expect(s.reads).toBe(1);
    const path = await s.loadUnit("app.service");
    // systemd 252 sends Conditions/Asserts and the Exec* lists invalidated with every change: no re-read for those.
    s.emit("changed", path, SERVICE_IFACE, { Result: "success" } as PropertyBag, [
      "ExecStart",
      "ExecMainStatus_",
    ]);
    s.emit("changed", path, UNIT_IFACE, { ActiveState: "active", SubState: "running" } as PropertyBag, [
      "Conditions",
      "Asserts",
    ]);
    await tick();
    expect(s.reads).toBe(1);
    expect(last()).toMatchObject({ kind: "up" });
    // A property the checks read, invalidated: read again.
    s.emit("changed", path, SERVICE_IFACE, {}, ["NRestarts"]);
    await tick();
    expect(s.reads).toBe(2);
  });
});

describe("UnitWatcher and an alias", () => {
  it("subscribes to the unit's own name, which systemd's JobRemoved carries, and sees its start job fail", async () => {
    const s = new CountingSystemd();
    s.aliases.set("database.service", "db.service");
    const { last } = await watching(s, [{ id: "unit:database.service", name: "database.service" }]);
    // By the name as configured (sent with LoadUnit), then by the unit's own name once LoadUnit answered with it.
    expect(s.watched).toEqual(["database.service", "db.service"]);
    s.emit("jobRemoved", "db.service", "dependency");
    expect(last()).toEqual({ kind: "failed", detail: 'start job ended with "dependency"' });
  });

  it("an alias and the unit's own name, both configured, are two checks that each see the unit's signals", async () => {
    const s = new CountingSystemd();
    s.aliases.set("database.service", "db.service");
    const { seen } = await watching(s, [
      { id: "unit:database.service", name: "database.service" },
      { id: "unit:db.service", name: "db.service" },
    ]);
    s.set("db.service", { ActiveState: "active", SubState: "exited" });
    const up = (id: string) => seen.filter(([i, o]) => i === id && o.kind === "up");
    expect(up("unit:database.service")).toHaveLength(1);
    expect(up("unit:db.service")).toHaveLength(1);
    s.set("db.service", { ActiveState: "inactive", SubState: "dead" });
    s.emit("jobRemoved", "db.service", "timeout");
    const failed = seen
      .filter(([, o]) => o.kind === "failed")
      .map(([id, o]) => `${id} ${o.kind === "failed" && o.detail}`);
    expect(failed.sort()).toEqual([
      'unit:database.service start job ended with "timeout"',
      'unit:db.service start job ended with "timeout"',
    ]);
  });
});

describe("UnitWatcher and a start job that ended before it subscribed", () => {
  it("asks once, after the first reads, about the inactive units only, and fails those that will not start", async () => {
    const s = new CountingSystemd();
    s.aliases.set("database.service", "db.service");
    s.set("web.service", { ActiveState: "active", SubState: "running" });
    s.stranded.set("db.service", "data.mount");
    const { seen } = await watching(s, [
      { id: "unit:database.service", name: "database.service" },
      { id: "unit:db.service", name: "db.service" },
      { id: "unit:web.service", name: "web.service" },
      { id: "unit:app.service", name: "app.service" },
    ]);
    await tick();
    expect(s.strandedAsked).toEqual([["db.service", "app.service"]]);
    const failed = seen.filter(([, o]) => o.kind === "failed").map(([id, o]) => [id, o]);
    const detail = "not started: data.mount, which it requires, failed";
    expect(failed).toEqual([
      ["unit:database.service", { kind: "failed", detail }],
      ["unit:db.service", { kind: "failed", detail }],
    ]);
    // Started after all (the mount came back): up, as any unit that becomes active.
    s.set("db.service", { ActiveState: "active", SubState: "running" });
    const last2 = seen.slice(-2).map(([id, o]) => `${id} ${o.kind}`);
    expect(last2.sort()).toEqual(["unit:database.service up", "unit:db.service up"]);
  });

  it("does not ask when every unit is up or has a job result already", async () => {
    const s = new CountingSystemd();
    s.set("web.service", { ActiveState: "active", SubState: "running" });
    await watching(s, [{ id: "unit:web.service", name: "web.service" }]);
    await tick();
    expect(s.strandedAsked).toEqual([]);
  });
});

describe("unitNameOfPath", () => {
  it("decodes systemd's object paths (every byte but [A-Za-z0-9] as _xx) and refuses other paths", () => {
    const unit = "/org/freedesktop/systemd1/unit/";
    expect(unitNameOfPath(`${unit}dbus_2eservice`)).toBe("dbus.service");
    expect(unitNameOfPath(`${unit}getty_40tty1_2eservice`)).toBe("getty@tty1.service");
    expect(unitNameOfPath(`${unit}_2d_2emount`)).toBe("-.mount");
    expect(unitNameOfPath(`${unit}caf_c3_a9_2eservice`)).toBe("café.service");
    expect(unitNameOfPath("/org/freedesktop/systemd1/job/42")).toBeUndefined();
    expect(unitNameOfPath(`${unit}a_zz`)).toBeUndefined();
    expect(unitNameOfPath(`${unit}a.service`)).toBeUndefined();
    expect(unitNameOfPath(unit)).toBeUndefined();
  });

  it("unitPath encodes a name the way systemd does, and unitNameOfPath reads it back", () => {
    expect(unitPath("getty@tty1.service")).toBe("/org/freedesktop/systemd1/unit/getty_40tty1_2eservice");
    expect(unitPath("café.service")).toBe("/org/freedesktop/systemd1/unit/caf_c3_a9_2eservice");
    for (const n of ["-.mount", "a-b_c\\x2d.service", "x\u0001y.target", "Z9.socket"])
      expect(unitNameOfPath(unitPath(n))).toBe(n);
  });
});

describe("UnitWatcher's first round trip", () => {
  it("sends LoadUnit, the match rules and the first reads together, before LoadUnit is answered", async () => {
    const s = new CountingSystemd();
    s.set("app.service", { ActiveState: "active", SubState: "running" });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const load = s.loadUnit.bind(s);
    s.loadUnit = async (name: string) => {
      await held;
      return load(name);
    };
    const seen: Observation[] = [];
    const started = new UnitWatcher(
      s,
      [{ id: "unit:app.service", name: "app.service" }],
      (_, o) => seen.push(o),
      rethrow,
    ).start();
    await tick();
    expect(s.watched).toEqual(["app.service"]);
    expect(s.reads).toBe(1);
    expect(seen).toMatchObject([{ kind: "up" }]);
    release();
    await started;
    expect(s.reads).toBe(1);
  });

  it("fails with LoadUnit's error when the unit cannot be loaded", async () => {
    const s = new CountingSystemd();
    s.loadUnit = async (name: string) => {
      throw new Error(`Unit name ${name} is not valid.`);
    };
    s.readUnit = async () => {
      throw new Error("Unknown object");
    };
    const w = new UnitWatcher(s, [{ id: "unit:x", name: "x" }], () => undefined, rethrow);
    await expect(w.start()).rejects.toThrow("Unit name x is not valid.");
  });
});

describe("UnitWatcher and a failed service", () => {
  it("reads again when a failed service's Result has not come with it, and judges it with the reason", async () => {
    const s = new CountingSystemd();
    s.units.set("x.service", {
      unit: { LoadState: "loaded", ActiveState: "failed", SubState: "failed" },
      svc: {},
    });
    const read = s.readUnit.bind(s);
    s.readUnit = async (name: string) => {
      const r = await read(name);
      // The Service bag answers from the second read on.
      return s.reads > 1 ? { ...r, svc: { Result: "exit-code", ExecMainStatus: 4 } } : r;
    };
    const { all } = await watching(s, [{ id: "command:x", name: "x.service", command: true }]);
    await tick();
    expect(s.reads).toBe(2);
    expect(all()).toEqual([{ kind: "failed", detail: "exited with status 4" }]);
  });
});

describe("FailedUnitsWatcher", () => {
  it("reads NFailedUnits once more after a burst of job ends, not once per job", async () => {
    const s = new CountingSystemd();
    const seen: Observation[] = [];
    const w = new FailedUnitsWatcher(
      s,
      (o) => seen.push(o),
      () => 1,
      rethrow,
    );
    await w.start();
    expect(s.gets).toBe(1);
    let release!: () => void;
    s.hold = new Promise((r) => (release = r));
    for (let i = 0; i < 500; i++) s.emit("jobRemoved", `u${i}.service`, "done");
    s.nFailed = 2;
    release();
    s.hold = undefined;
    await tick();
    expect(s.gets).toBe(3);
    expect(seen.at(-1)).toEqual({ kind: "failed", detail: "2 failed unit(s)" });
  });
});

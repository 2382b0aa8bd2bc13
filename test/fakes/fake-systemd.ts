import { EventEmitter } from "node:events";
import { BootwardenError } from "../../src/base/errors.js";
import type { PropertyBag } from "../../src/core/unit-rules.js";
import {
  SERVICE_IFACE,
  type SystemdConnection,
  type SystemdEvents,
  type TransientService,
  UNIT_IFACE,
} from "../../src/systemd/api.js";

/**
 * systemd's manager in memory: units with Unit/Service property bags, PropertiesChanged and JobRemoved as the real
 * client emits them, and the StartUnit calls it received (a reboot can be made to hang, as a dying machine does).
 */
export class FakeSystemd extends EventEmitter<SystemdEvents> implements SystemdConnection {
  readonly units = new Map<string, { unit: PropertyBag; svc: PropertyBag }>();
  readonly started: string[] = [];
  userspaceUs = 1_000_000n;
  nFailed = 0;
  hangReboot = false;
  readonly transient = new Map<string, TransientService>();
  readonly stopped: string[] = [];
  /** What runTransient answers per unit name (default "done"); a hook's run is recorded in `transient`. */
  readonly jobResults = new Map<string, string>();
  /** Alias -> the unit's own name: LoadUnit answers with the own name's path, as systemd does. */
  readonly aliases = new Map<string, string>();

  private path(name: string) {
    return `/org/freedesktop/systemd1/unit/${name.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}`;
  }

  /** Sets a unit's properties and signals the change, as systemd does after a state transition. */
  set(name: string, unit: PropertyBag, svc: PropertyBag = {}): void {
    const u = this.units.get(name) ?? { unit: { LoadState: "loaded" }, svc: {} };
    Object.assign(u.unit, unit);
    Object.assign(u.svc, svc);
    this.units.set(name, u);
    // systemd's order (bus-unit.c): the type's interface first, then Unit.
    if (Object.keys(svc).length) this.emit("changed", this.path(name), SERVICE_IFACE, { ...svc }, []);
    if (Object.keys(unit).length) this.emit("changed", this.path(name), UNIT_IFACE, { ...unit }, []);
  }

  async managerProperty(name: string): Promise<unknown> {
    if (name === "NFailedUnits") return this.nFailed;
    throw new Error(`fake systemd: no property ${name}`);
  }

  async userspaceStart(): Promise<bigint> {
    return this.userspaceUs;
  }

  async loadUnit(alias: string): Promise<string> {
    const name = this.aliases.get(alias) ?? alias;
    if (!this.units.has(name))
      this.units.set(name, {
        unit: { LoadState: "loaded", ActiveState: "inactive", SubState: "dead" },
        svc: {},
      });
    return this.path(name);
  }

  async readUnit(name: string): Promise<{ unit: PropertyBag; svc: PropertyBag }> {
    const u = this.units.get(this.aliases.get(name) ?? name)!;
    return { unit: { ...u.unit }, svc: { ...u.svc } };
  }

  closed = false;
  async start(): Promise<void> {}
  close(): void {
    this.closed = true;
  }

  async startUnit(name: string): Promise<void> {
    this.started.push(name);
    if (name === "reboot.target" && this.hangReboot) await new Promise(() => undefined);
  }

  readonly watched: string[] = [];
  async watchUnits(units: readonly { name: string }[]): Promise<void> {
    this.watched.push(...units.map((u) => u.name));
  }

  /** Unit name -> the failed unit it requires, for the units strandedUnits should name (none by default). */
  readonly stranded = new Map<string, string>();
  readonly strandedAsked: string[][] = [];
  async strandedUnits(units: readonly { name: string }[]): Promise<Map<string, string>> {
    this.strandedAsked.push(units.map((u) => u.name));
    return new Map([...this.stranded].filter(([n]) => units.some((u) => u.name === n)));
  }

  async watchAllJobs(): Promise<void> {}

  async stopUnit(name: string): Promise<void> {
    this.stopped.push(name);
  }

  async startTransient(name: string, svc: TransientService): Promise<void> {
    if (this.transient.has(name)) throw new BootwardenError("dbus", "exists", `${name} already exists`);
    this.transient.set(name, svc);
    this.units.set(name, {
      unit: { LoadState: "loaded", ActiveState: "activating", SubState: "start" },
      svc: { Type: "oneshot", Result: "success", NRestarts: 0 },
    });
  }

  async runTransient(name: string, svc: TransientService): Promise<string> {
    this.transient.set(name, svc);
    return this.jobResults.get(name) ?? "done";
  }
}

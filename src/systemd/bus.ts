import dbus from "dbus-next";
import type { PropertyBag } from "../core/unit-rules.js";
import { SERVICE_IFACE, type SystemdConnection, type TransientService, UNIT_IFACE } from "./api.js";
import { PID1_SOCKET } from "./direct.js";
import { SystemdLink } from "./link.js";
import { MANAGER, MANAGER_PATH, PROPS, SYSTEMD } from "./names.js";
import { unwrap, unwrapRead } from "./properties.js";
import { strandedUnits } from "./stranded.js";
import { runTransient, startTransient } from "./transient.js";

/** systemd over its own socket where this process may use it (root), else over the system bus. */
export const connectSystemd = (callTimeoutMs?: number): SystemdConnection =>
  new SystemdClient(dbus.systemBus(), callTimeoutMs, PID1_SOCKET);

/** systemd's manager: the calls the daemon, its watchers and its command checks make, over a SystemdLink. */
export class SystemdClient extends SystemdLink implements SystemdConnection {
  strandedUnits(units: readonly { name: string; path: string }[]): Promise<Map<string, string>> {
    return strandedUnits((...m) => this.call(...m), units);
  }

  /** A call to systemd's manager. */
  private manager(member: string, signature = "", body: unknown[] = []) {
    return this.call(SYSTEMD, MANAGER_PATH, MANAGER, member, signature, body);
  }

  /** LoadUnit also answers for units that do not exist (LoadState "not-found"), so nothing is missed. */
  async loadUnit(name: string): Promise<string> {
    return String((await this.manager("LoadUnit", "s", [name]))[0]);
  }

  async getAll(path: string, iface: string): Promise<PropertyBag> {
    try {
      const [props] = await this.call(SYSTEMD, path, PROPS, "GetAll", "s", [iface]);
      return unwrapRead(props as Record<string, unknown>);
    } catch (err) {
      // A unit that is not a service has no Service interface.
      if (iface === SERVICE_IFACE && (err as { type?: string }).type) return {};
      throw err;
    }
  }

  /**
   * Both property bags of a unit, Unit first: systemd sets a service's Result before its state changes, so a Service
   * bag read after the Unit bag explains the state it shows. Both calls go out together on this one connection, and
   * systemd answers them in the order sent: the Service bag is still read after the Unit bag, one round trip sooner.
   */
  async readUnit(name: string, path: string): Promise<{ unit: PropertyBag; svc: PropertyBag }> {
    const [unit, svc] = await Promise.all([
      this.getAll(path, UNIT_IFACE),
      name.endsWith(".service") ? this.getAll(path, SERVICE_IFACE) : {},
    ]);
    return { unit, svc };
  }

  async managerProperty(name: string): Promise<unknown> {
    const [v] = await this.call(SYSTEMD, MANAGER_PATH, PROPS, "Get", "ss", [MANAGER, name]);
    return unwrap(v);
  }

  async startUnit(name: string, mode: string): Promise<void> {
    await this.manager("StartUnit", "ss", [name, mode]);
  }

  async stopUnit(name: string): Promise<void> {
    await this.manager("StopUnit", "ss", [name, "replace"]);
  }

  startTransient(name: string, svc: TransientService): Promise<void> {
    return startTransient((...m) => this.call(...m), name, svc);
  }

  runTransient(name: string, svc: TransientService): Promise<string> {
    return runTransient(this, name, svc, this.callTimeoutMs);
  }
}

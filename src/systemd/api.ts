import type { PropertyBag } from "../core/unit-rules.js";

export interface SystemdEvents {
  /**
   * A unit's properties changed: `changed` carries the new values (systemd sends them for the properties the checks
   * read); `invalidated` names properties sent without a value, which must be re-read.
   */
  changed: [path: string, iface: string, changed: PropertyBag, invalidated: string[]];
  /** A job finished: its unit and result ("done", "failed", "dependency", "timeout", ...). */
  jobRemoved: [unit: string, result: string];
  /** systemd's bus name changed owner (daemon-reexec): subscriptions were re-made, re-read everything. */
  reconnected: [];
  /** The bus connection is gone; the daemon should exit so systemd restarts it. */
  lost: [reason: string];
}

export const UNIT_IFACE = "org.freedesktop.systemd1.Unit";
export const SERVICE_IFACE = "org.freedesktop.systemd1.Service";

/** The part of systemd's manager the daemon and the watchers use; SystemdClient speaks it over D-Bus. */
export interface SystemdApi {
  on<K extends keyof SystemdEvents>(event: K, listener: (...args: SystemdEvents[K]) => void): unknown;
  managerProperty(name: string): Promise<unknown>;
  /** The unit's object path; LoadUnit answers for units that do not exist too (LoadState "not-found"). */
  loadUnit(name: string): Promise<string>;
  readUnit(name: string, path: string): Promise<{ unit: PropertyBag; svc: PropertyBag }>;
  startUnit(name: string, mode: string): Promise<void>;
}

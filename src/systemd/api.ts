import type { ApiProperties } from "../core/api-view.js";
import type { PropertyBag } from "../core/unit-rules.js";

export interface SystemdEvents {
  /**
   * A unit's properties changed: `changed` carries the new values of the properties the checks read
   * (UNIT_PROPERTIES, SERVICE_PROPERTIES; no others); `invalidated` names those of them sent without a value, which
   * must be re-read. A change of nothing the checks read is not delivered.
   */
  changed: [path: string, iface: string, changed: PropertyBag, invalidated: string[]];
  /** A job finished: its unit and result ("done", "failed", "dependency", "timeout", ...). */
  jobRemoved: [unit: string, result: string];
  /** systemd's bus name changed owner (daemon-reexec): subscriptions were re-made, re-read everything. */
  reconnected: [];
  /** A signal from a sender that is neither the bus nor systemd was dropped: who sent it, and what it claimed. */
  foreign: [sender: string, what: string];
  /** The bus connection is gone; the daemon should exit so systemd restarts it. */
  lost: [reason: string];
}

export const UNIT_IFACE = "org.freedesktop.systemd1.Unit";
export const SERVICE_IFACE = "org.freedesktop.systemd1.Service";

/** A oneshot service started with StartTransientUnit: a check or a hook, outside the daemon's sandbox. */
export interface TransientService {
  description: string;
  argv: string[];
  /** TimeoutStartSec=: a oneshot's whole run is its start, so this bounds it (RuntimeMaxSec= does not apply). */
  timeoutMs: number;
  environment: string[];
  /** RemainAfterExit=: a check's unit stays "active (exited)" after it passed, for the watcher and the operator. */
  remainAfterExit: boolean;
  /** Restart=on-failure with RestartSec= this, and no start limit: systemd retries until it is stopped. */
  restartMs?: number;
  /** After= and Wants= network-online.target: it starts once the network is up (or the target is reached). */
  network?: boolean;
}

/** One method call on the system bus: the reply's body. */
export type BusCall = (
  destination: string,
  path: string,
  iface: string,
  member: string,
  signature?: string,
  body?: unknown[],
) => Promise<unknown[]>;

/** The part of systemd's manager the daemon and the watchers use; SystemdClient speaks it over D-Bus. */
export interface SystemdApi {
  on<K extends keyof SystemdEvents>(event: K, listener: (...args: SystemdEvents[K]) => void): unknown;
  managerProperty(name: string): Promise<unknown>;
  /** CLOCK_MONOTONIC µs at which userspace began in this boot (UserspaceTimestampMonotonic), asked once. */
  userspaceStart(): Promise<bigint>;
  /** The unit's object path; LoadUnit answers for units that do not exist too (LoadState "not-found"). */
  loadUnit(name: string): Promise<string>;
  readUnit(name: string, path: string): Promise<{ unit: PropertyBag; svc: PropertyBag }>;
  /** Subscribes to these units' property changes and job ends; nothing else is delivered. */
  watchUnits(units: readonly { name: string; path: string }[]): Promise<void>;
  /**
   * Of these inactive units, those that will not start: no job left, nothing that starts them on demand, and a unit
   * they require (Requires=, Requisite=, BindsTo=) failed. Unit name -> that failed unit.
   */
  strandedUnits(units: readonly { name: string; path: string }[]): Promise<Map<string, string>>;
  /** Subscribes to every job's end (noFailedUnits). */
  watchAllJobs(): Promise<void>;
  startUnit(name: string, mode: string): Promise<void>;
  stopUnit(name: string): Promise<void>;
  /** Fails with code "exists" when the unit is already there (started earlier in this boot). */
  startTransient(name: string, svc: TransientService): Promise<void>;
  /** Starts a transient service and resolves with its job's result once it has run: "done", "failed", "timeout"... */
  runTransient(name: string, svc: TransientService): Promise<string>;
}

/** systemd on the system bus, for a process that talks to it: SystemdClient, or a fake in the in-process tests. */
export interface SystemdConnection extends SystemdApi {
  /** The match rules and the subscription; signals count from then on. */
  start(): Promise<void>;
  close(): void;
}

/** bootwarden's own D-Bus API (README "Fleets"): the names, and what the daemon answers through it. */
export const API = {
  name: "io.github.bootwarden1",
  path: "/io/github/bootwarden1",
  iface: "io.github.bootwarden1.Manager",
  /** The polkit action that lets a caller other than root mark. */
  markAction: "io.github.bootwarden1.mark",
} as const;

export interface ApiHandlers {
  /** The same content as `bootwarden status --json` (nulls left out). */
  getStatus(): Promise<Record<string, unknown>>;
  /** MarkGood/MarkBad, once the caller is allowed: returns what was done. */
  mark(which: "good" | "bad", reason: string): Promise<string>;
}

/** The API being served: new property values (PropertiesChanged when they differ) and the verdict signal. */
export interface ApiService {
  publish(p: ApiProperties): void;
  verdictReached(verdict: string, reason: string): void;
}

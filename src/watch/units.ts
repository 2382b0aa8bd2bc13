import type { Observation } from "../core/assessment.js";
import {
  observeCommand,
  observeUnit,
  type PropertyBag,
  READ_PROPERTIES,
  TELLING_JOB_RESULTS,
  toSnapshot,
  type UnitSnapshot,
} from "../core/unit-rules.js";
import { SERVICE_IFACE, type SystemdApi, UNIT_IFACE } from "../systemd/api.js";
import { unitNameOfPath, unitPath } from "../systemd/names.js";

/** A unit to watch; a command check's transient unit is judged by the command rules. */
export interface WatchedUnit {
  id: string;
  name: string;
  command?: boolean;
}

interface Watched extends WatchedUnit {
  path?: string;
  /** The unit's own name, which JobRemoved carries: the configured name may be an alias. */
  own?: string;
  unit: PropertyBag;
  svc: PropertyBag;
  jobResult?: string;
  /** A unit it requires that failed while it had no job left: it will not start (src/systemd/stranded.ts). */
  failedDependency?: string;
  lastKind?: Observation["kind"];
  reading: boolean;
  again: boolean;
  retries: number;
  lastKey?: string;
}

const READ_BATCH = 32;
// Up to this many units their LoadUnit, match rules (three each at most) and first reads (two each) are sent at once:
// well within the 128 pending replies dbus-daemon allows a connection.
const TOGETHER = 16;

/**
 * Critical units, driven by systemd's signals. The properties are read once with GetAll; after that each
 * PropertiesChanged carries the new values, which are merged in without another round trip: a re-read only when a
 * property the checks read comes invalidated (systemd answers a GetAll sent during a start burst only after the
 * burst, seconds later with a thousand units), or after daemon-reexec. Repeats that mean the same are dropped.
 */
export class UnitWatcher {
  private readonly byName = new Map<string, Watched>();
  // Lists: an alias and the unit's own name, both configured, are one unit to systemd and two checks here.
  private readonly byPath = new Map<string, Watched[]>();
  private readonly byOwnName = new Map<string, Watched[]>();

  constructor(
    private readonly systemd: SystemdApi,
    units: readonly WatchedUnit[],
    private readonly onObservation: (id: string, obs: Observation, snap: UnitSnapshot) => void,
    private readonly onError: (err: Error) => void,
  ) {
    for (const u of units)
      this.byName.set(u.name, { ...u, unit: {}, svc: {}, reading: false, again: false, retries: 0 });
  }

  async start(): Promise<void> {
    this.systemd.on("changed", (p, iface, changed, invalidated) => {
      for (const w of this.byPath.get(p) ?? []) this.changed(w, iface, changed, invalidated);
    });
    this.systemd.on("jobRemoved", (unit, result) => {
      if (!TELLING_JOB_RESULTS.has(result)) return;
      for (const w of this.byOwnName.get(unit) ?? []) {
        w.jobResult = result;
        this.evaluate(w);
      }
    });
    this.systemd.on("reconnected", () => this.refreshAll());
    const all = [...this.byName.values()];
    if (all.length <= TOGETHER) await this.startTogether(all);
    else {
      for (let i = 0; i < all.length; i += READ_BATCH)
        await Promise.all(
          all.slice(i, i + READ_BATCH).map(async (w) => this.place(w, await this.systemd.loadUnit(w.name))),
        );
      // Subscribed before the first read: a change between the two is not lost.
      await this.systemd.watchUnits(all.map((w) => ({ name: w.own!, path: w.path! })));
      // dbus-daemon allows a limited number of pending replies per connection (128 on the system bus): read in
      // batches, two calls per unit.
      for (let i = 0; i < all.length; i += READ_BATCH)
        await Promise.all(all.slice(i, i + READ_BATCH).map((w) => this.read(w)));
    }
    // After READY, not before it: one call in a healthy boot, and the deadline judges these units all the same.
    setImmediate(() => void this.findStranded().catch(() => undefined));
  }

  /**
   * LoadUnit, the match rules and the first reads in one round trip: the path is the name's encoding, and systemd
   * loads the unit before it reads it (one connection, handled in order; dbus-daemon too, so the rules are in place
   * before the read). A name that is an alias answers with its unit's own path, which is then watched and read.
   */
  private async startTogether(all: Watched[]): Promise<void> {
    for (const w of all) this.place(w, unitPath(w.name));
    const loaded = Promise.all(all.map((w) => this.systemd.loadUnit(w.name)));
    const subscribed = this.systemd.watchUnits(all.map((w) => ({ name: w.own!, path: w.path! })));
    const reads = all.map((w) =>
      this.read(w).then(
        () => undefined,
        (err: Error) => err,
      ),
    );
    // Awaited below; not an unhandled rejection meanwhile. LoadUnit's error is the one that explains.
    for (const p of [loaded, subscribed]) p.catch(() => undefined);
    const paths = await loaded;
    await subscribed;
    const errors = await Promise.all(reads);
    // A read by an alias's path may fail where systemd knows the unit by its own name only: it is read again.
    const failed = errors.find((e, i) => e && paths[i] === all[i]!.path);
    if (failed) throw failed;
    const moved = all.flatMap((w, i) => (paths[i] === w.path ? [] : [{ w, path: paths[i]! }]));
    if (moved.length === 0) return;
    for (const m of moved) this.place(m.w, m.path);
    await this.systemd.watchUnits(moved.map(({ w }) => ({ name: w.own!, path: w.path! })));
    await Promise.all(moved.map(({ w }) => this.read(w)));
  }

  /** Where systemd's signals about this unit come: its path and its own name (JobRemoved's). */
  private place(w: Watched, path: string): void {
    const drop = (map: Map<string, Watched[]>, key?: string) => {
      if (key)
        map.set(
          key,
          (map.get(key) ?? []).filter((x) => x !== w),
        );
    };
    drop(this.byPath, w.path);
    drop(this.byOwnName, w.own);
    w.path = path;
    w.own = unitNameOfPath(path) ?? w.name;
    this.byPath.set(path, [...(this.byPath.get(path) ?? []), w]);
    this.byOwnName.set(w.own, [...(this.byOwnName.get(w.own) ?? []), w]);
  }

  /** Units still pending and inactive after the first reads whose start job may have ended before the subscription. */
  private async findStranded(): Promise<void> {
    const idle = [...this.byName.values()].filter(
      (w) => !w.command && w.lastKind === "pending" && w.unit.ActiveState === "inactive" && !w.jobResult,
    );
    if (idle.length === 0) return;
    const units = [...new Map(idle.map((w) => [w.own!, { name: w.own!, path: w.path! }])).values()];
    const stranded = await this.systemd.strandedUnits(units);
    for (const w of idle) {
      const dep = stranded.get(w.own!);
      if (!dep || w.jobResult || w.unit.ActiveState !== "inactive") continue;
      w.failedDependency = dep;
      this.evaluate(w);
    }
  }

  private changed(w: Watched, iface: string, changed: PropertyBag, invalidated: string[]): void {
    // systemd 252 invalidates Conditions, Asserts and the Exec* lists on every change; only the read ones count.
    if (invalidated.some((p) => READ_PROPERTIES.has(p))) {
      this.reread(w);
      return;
    }
    if (iface === UNIT_IFACE) Object.assign(w.unit, changed);
    else if (iface === SERVICE_IFACE) Object.assign(w.svc, changed);
    else return;
    // While a full read is in flight its answer may be older than this signal: read again after it.
    if (w.reading) w.again = true;
    else this.evaluate(w);
  }

  refreshAll(): void {
    for (const w of this.byName.values()) this.reread(w);
  }

  private reread(w: Watched): void {
    if (w.reading) {
      w.again = true;
      return;
    }
    this.read(w).catch((err: Error) => this.onError(err));
  }

  private async read(w: Watched): Promise<void> {
    if (!w.path) return;
    w.reading = true;
    try {
      do {
        w.again = false;
        const { unit, svc } = await this.systemd.readUnit(w.name, w.path);
        w.unit = unit;
        // A Service interface that did not answer keeps what the signals told us.
        if (Object.keys(svc).length > 0) w.svc = svc;
        this.evaluate(w);
      } while (w.again);
    } finally {
      w.reading = false;
    }
  }

  private evaluate(w: Watched): void {
    if (!w.path) return;
    // A failed service is judged with its Result (why it failed); without one the bags are from different moments:
    // read again (a few times at most) rather than report "failed (failed)".
    if (w.name.endsWith(".service") && w.unit.ActiveState === "failed" && w.svc.Result === undefined) {
      if (w.retries < 3) {
        w.retries++;
        if (w.reading) w.again = true;
        else this.reread(w);
        return;
      }
    }
    const snap = toSnapshot(w.name, w.path, w.unit, w.svc);
    const obs = w.command ? observeCommand(snap) : observeUnit(snap, w.jobResult, w.failedDependency);
    w.lastKind = obs.kind;
    const key = JSON.stringify(obs);
    if (key === w.lastKey) return;
    w.lastKey = key;
    this.onObservation(w.id, obs, snap);
  }
}

import type { SystemdClient, UnitSnapshot } from "../systemd/bus.js";
import type { Observation } from "./assessment.js";
import { observeUnit } from "./unit-observation.js";

interface Watched {
  id: string;
  name: string;
  path?: string;
  jobResult?: string;
  busy: boolean;
  dirty: boolean;
  lastKey?: string;
}

/**
 * Critical units, driven by systemd's signals: a PropertiesChanged or JobRemoved for a unit triggers one re-read of
 * its properties (coalesced while a read is in flight), and repeated signals with the same meaning are dropped.
 */
export class UnitWatcher {
  private readonly byPath = new Map<string, Watched>();
  private readonly byName = new Map<string, Watched>();

  constructor(
    private readonly systemd: SystemdClient,
    units: readonly { id: string; name: string }[],
    private readonly onObservation: (id: string, obs: Observation, snap: UnitSnapshot) => void,
    private readonly onError: (err: Error) => void,
  ) {
    for (const u of units) this.byName.set(u.name, { ...u, busy: false, dirty: false });
  }

  async start(): Promise<void> {
    this.systemd.on("changed", (p) => {
      const w = this.byPath.get(p);
      if (w) this.refresh(w);
    });
    this.systemd.on("jobRemoved", (unit, result) => {
      const w = this.byName.get(unit);
      if (!w) return;
      w.jobResult = result;
      this.refresh(w);
    });
    this.systemd.on("reconnected", () => this.refreshAll());
    for (const w of this.byName.values()) {
      w.path = await this.systemd.loadUnit(w.name);
      this.byPath.set(w.path, w);
    }
    await Promise.all([...this.byName.values()].map((w) => this.read(w)));
  }

  refreshAll(): void {
    for (const w of this.byName.values()) this.refresh(w);
  }

  private refresh(w: Watched): void {
    if (w.busy) {
      w.dirty = true;
      return;
    }
    this.read(w).catch((err: Error) => this.onError(err));
  }

  private async read(w: Watched): Promise<void> {
    if (!w.path) return;
    w.busy = true;
    try {
      do {
        w.dirty = false;
        const snap = await this.systemd.snapshot(w.name, w.path);
        const obs = observeUnit(snap, 0, w.jobResult);
        const key = JSON.stringify(obs);
        if (key !== w.lastKey) {
          w.lastKey = key;
          this.onObservation(w.id, obs, snap);
        }
      } while (w.dirty);
    } finally {
      w.busy = false;
    }
  }
}

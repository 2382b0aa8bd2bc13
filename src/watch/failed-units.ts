import type { Observation } from "../core/assessment.js";
import type { SystemdApi } from "../systemd/api.js";

/** The noFailedUnits check: systemd's NFailedUnits, re-read when a job ends (a unit can only fail through one). */
export class FailedUnitsWatcher {
  private last = -1;

  constructor(
    private readonly systemd: SystemdApi,
    private readonly onObservation: (obs: Observation) => void,
    private readonly now: () => number,
    private readonly onError: (err: Error) => void,
  ) {}

  async start(): Promise<void> {
    this.systemd.on("jobRemoved", () => void this.check().catch((err: Error) => this.onError(err)));
    await this.check();
  }

  async check(): Promise<void> {
    const n = Number(await this.systemd.managerProperty("NFailedUnits"));
    if (n === this.last) return;
    this.last = n;
    this.onObservation(
      n === 0
        ? { kind: "up", since: this.now(), detail: "no failed units" }
        : { kind: "failed", detail: `${n} failed unit(s)` },
    );
  }
}

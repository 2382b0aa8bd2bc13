import type { BootStateBackend } from "../../src/bootstate/types.js";
import { configSchema } from "../../src/config/schema.js";
import { Daemon } from "../../src/daemon/daemon.js";
import {
  FakeClock,
  MemoryFlags,
  MemoryMotd,
  MemoryStore,
  memoryLogger,
  RecordingHooks,
  RecordingNotifier,
} from "./fake-ports.js";
import { FakeSystemd } from "./fake-systemd.js";
import { MemoryBackend } from "./memory-backend.js";

/**
 * One machine: what survives a daemon restart within a boot (store, boot state, systemd, clock) is shared. The boot
 * state is in memory unless a real backend is given (the tools tier's, on a real image).
 */
export function machine<B extends BootStateBackend = MemoryBackend>(
  config: object = { assessment: { deadline: "30s", critical: { units: ["app.service"] } } },
  store = new MemoryStore(),
  backend: B = new MemoryBackend("B") as BootStateBackend as B,
) {
  const m = {
    backend,
    systemd: new FakeSystemd(),
    store,
    flags: new MemoryFlags(),
    hooks: new RecordingHooks(),
    motd: new MemoryMotd(),
    clock: new FakeClock(5000),
    config: configSchema.parse(config),
    exits: [] as number[],
    /** When the daemon began to give memory back (its collection, clock ms). */
    released: [] as number[],
    ...memoryLogger(),
  };
  const daemon = (cfg = m.config) =>
    new Daemon({
      config: cfg,
      backend: m.backend,
      systemd: m.systemd,
      store: m.store,
      flags: m.flags,
      hooks: m.hooks,
      motd: m.motd,
      notifier: new RecordingNotifier(),
      collectHeap: () => {
        m.released.push(m.clock.now());
        return 0;
      },
      log: m.log,
      clock: m.clock,
      exit: (code) => m.exits.push(code),
      pid: 4242,
    });
  const withId = (id: string) => m.records.filter((r) => r.MESSAGE_ID === id);
  return { ...m, daemon, withId };
}

import type { DaemonStatus } from "../core/status.js";
import type { StatusStore } from "./ports.js";

export type Publisher = (s: DaemonStatus) => Promise<void>;

/**
 * The status the daemon saves is the one source of what others learn (the metrics, the D-Bus API): each save is
 * handed on once it is in status.json, so they can never say something status.json does not. A publisher that fails
 * is reported, never allowed to fail the save.
 */
export function publishedStore(
  store: StatusStore,
  publishers: readonly Publisher[],
  warn: (msg: string) => void,
): StatusStore {
  if (publishers.length === 0) return store;
  const write = async (s: DaemonStatus): Promise<void> => {
    await store.write(s);
    // Awaited, so that a daemon about to exit (an invalid config) has published what it saved.
    await Promise.all(
      publishers.map((p) => p(s).catch((err: Error) => warn(`could not publish the status: ${err.message}`))),
    );
  };
  return new Proxy(store, {
    get(target, key) {
      if (key === "write") return write;
      const v = Reflect.get(target, key, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

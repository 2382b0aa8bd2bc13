import { type BusCall, UNIT_IFACE } from "./api.js";
import { MANAGER, MANAGER_PATH, PROPS, SYSTEMD } from "./names.js";
import { unwrap } from "./properties.js";

const READ_BATCH = 32; // dbus-daemon allows 128 pending replies per connection

/**
 * Units that will not start in this boot because a unit they require failed, perhaps before anyone watched: a start
 * job that ends with "dependency" is signalled once, and a watcher that subscribed after it sees only an inactive
 * unit (a data mount that failed before the daemon started leaves its critical service so until the deadline).
 * Such a unit requires (Requires=, Requisite=, BindsTo=) a failed unit, is inactive with no job left, and nothing
 * starts it on demand (no socket, path or timer triggers it). Found from the failed units' side, through the reverse
 * dependencies systemd keeps: one call when nothing failed (every healthy boot), and a unit read only if it requires
 * one that did. Unit name -> the failed unit.
 */
export async function strandedUnits(
  call: BusCall,
  units: readonly { name: string; path: string }[],
): Promise<Map<string, string>> {
  const stranded = new Map<string, string>();
  if (units.length === 0) return stranded;
  const getAll = async (path: string) =>
    ((await call(SYSTEMD, path, PROPS, "GetAll", "s", [UNIT_IFACE])) as [Record<string, unknown>])[0];
  const names = (bag: Record<string, unknown>, key: string) =>
    (unwrap(bag[key]) as string[] | undefined) ?? [];
  const [listed] = await call(SYSTEMD, MANAGER_PATH, MANAGER, "ListUnitsFiltered", "as", [["failed"]]);
  // ListUnitsFiltered's a(ssssssouso): the name first, the object path seventh.
  const failed = (listed as unknown[][]).map((u) => ({ name: String(u[0]), path: String(u[6]) }));
  const watched = new Map(units.map((u) => [u.name, u.path]));
  const requires = new Map<string, string>(); // a watched unit -> a failed unit it requires
  await inBatches(failed, async (f) => {
    const bag = await getAll(f.path);
    for (const n of [...names(bag, "RequiredBy"), ...names(bag, "RequisiteOf"), ...names(bag, "BoundBy")])
      if (watched.has(n) && !requires.has(n)) requires.set(n, f.name);
  });
  await inBatches([...requires], async ([name, dep]) => {
    const bag = await getAll(watched.get(name)!);
    const job = unwrap(bag.Job) as [number, string] | undefined;
    if (unwrap(bag.ActiveState) !== "inactive" || Number(job?.[0] ?? 1) !== 0) return;
    if (names(bag, "TriggeredBy").length === 0) stranded.set(name, dep);
  });
  return stranded;
}

async function inBatches<T>(items: readonly T[], f: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += READ_BATCH) await Promise.all(items.slice(i, i + READ_BATCH).map(f));
}

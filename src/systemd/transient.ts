import type { EventEmitter } from "node:events";
import dbus from "dbus-next";
import { BootwardenError } from "../base/errors.js";
import type { BusCall, SystemdEvents, TransientService } from "./api.js";
import { JOBS_RULE, MANAGER, MANAGER_PATH, SYSTEMD } from "./names.js";

const { Variant } = dbus;

/** StartTransientUnit's property array for a oneshot service. */
export function transientProperties(svc: TransientService): [string, InstanceType<typeof Variant>][] {
  const props: [string, InstanceType<typeof Variant>][] = [
    ["Description", new Variant("s", svc.description)],
    ["Type", new Variant("s", "oneshot")],
    ["RemainAfterExit", new Variant("b", svc.remainAfterExit)],
    ["ExecStart", new Variant("a(sasb)", [[svc.argv[0], svc.argv, false]])],
    ["TimeoutStartUSec", new Variant("t", BigInt(svc.timeoutMs) * 1000n)],
    ["Environment", new Variant("as", svc.environment)],
  ];
  if (svc.network)
    props.push(
      ["After", new Variant("as", ["network-online.target"])],
      ["Wants", new Variant("as", ["network-online.target"])],
    );
  if (svc.restartMs !== undefined)
    props.push(
      ["Restart", new Variant("s", "on-failure")],
      ["RestartUSec", new Variant("t", BigInt(svc.restartMs) * 1000n)],
      ["StartLimitIntervalUSec", new Variant("t", 0n)],
    );
  return props;
}

/** Starts a transient oneshot service (a check or a hook); code "exists" when it is already there in this boot. */
export async function startTransient(call: BusCall, name: string, svc: TransientService): Promise<void> {
  try {
    await call(SYSTEMD, MANAGER_PATH, MANAGER, "StartTransientUnit", "ssa(sv)a(sa(sv))", [
      name,
      "fail",
      transientProperties(svc),
      [],
    ]);
  } catch (err) {
    if (/UnitExists/.test((err as { type?: string }).type ?? ""))
      throw new BootwardenError("dbus", "exists", `${name} already exists in this boot`);
    throw err;
  }
}

interface Client extends EventEmitter<SystemdEvents> {
  call: BusCall;
  addMatch(rule: string): Promise<unknown>;
  removeMatch(rule: string): Promise<unknown>;
}

/** Starts a transient service and resolves with its job's result once it has run: "done", "failed", "timeout"... */
export function runTransient(
  client: Client,
  name: string,
  svc: TransientService,
  callTimeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    // Listening before the start: the job may end before StartTransientUnit's answer is read.
    const onJob = (unit: string, result: string) => {
      if (unit !== name) return;
      done();
      resolve(result);
    };
    // systemd kills the service at its timeout; this only guards against a JobRemoved that never comes.
    const guard = setTimeout(() => {
      done();
      resolve("timeout");
    }, svc.timeoutMs + callTimeoutMs);
    const rule = `${JOBS_RULE},arg2='${name}'`;
    // dbus-daemon allows a connection 512 match rules: each run's own rule goes when the run does.
    const done = () => {
      clearTimeout(guard);
      client.off("jobRemoved", onJob);
      client.removeMatch(rule).catch(() => undefined);
    };
    client.on("jobRemoved", onJob);
    client
      .addMatch(rule)
      // A failed run of an earlier daemon in this boot would keep the name taken.
      .then(() =>
        client.call(SYSTEMD, MANAGER_PATH, MANAGER, "ResetFailedUnit", "s", [name]).catch(() => undefined),
      )
      .then(() => startTransient((...m) => client.call(...m), name, svc))
      .catch((err: Error) => {
        done();
        reject(err);
      });
  });
}

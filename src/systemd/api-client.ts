import dbus from "dbus-next";
import { API } from "./api.js";
import { fromVariant } from "./api-server.js";

const { Message } = dbus;

/**
 * The running daemon's status through its API (GetStatus), or undefined when there is none to ask: no system bus,
 * no daemon holding the name, or no answer within a second. Then the caller reads the files itself.
 */
export async function fetchStatus(timeoutMs = 1000): Promise<Record<string, unknown> | undefined> {
  let bus: ReturnType<typeof dbus.systemBus> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    bus = dbus.systemBus();
    bus.on("error", () => undefined); // a missing socket: answered below as "no daemon"
    const msg = new Message({
      destination: API.name,
      path: API.path,
      interface: API.iface,
      member: "GetStatus",
    });
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const reply = await Promise.race([bus.call(msg), late]);
    return reply ? (fromVariant(reply.body[0]) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    bus?.disconnect();
  }
}

// dbus-next 0.10's marshalling, which systemd/direct.ts uses on PID 1's own socket (no bus, so no MessageBus).
declare module "dbus-next/lib/marshall-compat.js" {
  export function messageToJsFmt(message: Record<string, unknown>): Record<string, unknown>;
  export function marshallMessage(message: Record<string, unknown>): [Buffer, number[]];
}
declare module "dbus-next/lib/message.js" {
  export function unmarshall(frame: Buffer): Record<string, unknown>;
}

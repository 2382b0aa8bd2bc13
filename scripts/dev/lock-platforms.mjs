#!/usr/bin/env node
// npm ci refuses a lockfile that lacks any optional dependency of a locked package, and npm install cannot add
// the entries of platform builds the registry here does not serve (biome's darwin/win32/android/musl CLIs answer
// 404). This adds them as optional entries whose os/cpu/libc come from the package name, so npm ci on linux-x64
// skips them as it would skip any foreign build. Run after `npm install` changes the lockfile.
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const platform = (name) => {
  const m = /-(linux|darwin|win32|android|freebsd)-(x64|arm64|ia32|arm)(-musl)?$/.exec(name);
  return m
    ? { os: [m[1]], cpu: [m[2]], ...(m[1] === "linux" ? { libc: [m[3] ? "musl" : "glibc"] } : {}) }
    : null;
};
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (lock.packages[key] || lock.packages[`${path}/node_modules/${dep}`]) continue;
    const p = platform(dep);
    if (!p)
      throw new Error(
        `lock-platforms: ${dep} is missing from the lockfile and its platform is not in its name`,
      );
    lock.packages[key] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...p };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platforms: ${added} entries added`);

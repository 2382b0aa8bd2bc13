// Prints the node_modules directories the given packages need (default: all runtime dependencies) with what they
// require, without optional ones (dbus-next's optional usocket would drag node-gyp and its tree along).
// Usage: node scripts/prod-deps.mjs [PACKAGE...]
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const seen = new Set();
const pkgOf = (dir) => JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));

function resolve(from, name) {
  for (let d = from; d.startsWith(root); d = path.dirname(d)) {
    const cand = path.join(d, "node_modules", name);
    if (existsSync(path.join(cand, "package.json"))) return cand;
    if (d === root) break;
  }
  throw new Error(`cannot resolve ${name} from ${from}`);
}

function walk(dir, names = Object.keys(pkgOf(dir).dependencies ?? {})) {
  for (const name of names) {
    const dep = resolve(dir, name);
    if (seen.has(dep)) continue;
    seen.add(dep);
    walk(dep);
  }
}
walk(root, process.argv.length > 2 ? process.argv.slice(2) : undefined);
for (const d of [...seen].sort()) console.log(path.relative(root, d));

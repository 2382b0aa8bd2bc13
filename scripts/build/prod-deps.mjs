// Prints the node_modules directories the given packages need, with what they require, without optional ones: what
// the installs copy beside the bundle (the native addons and their loaders).
// Usage: node scripts/build/prod-deps.mjs PACKAGE...
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
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

function walk(dir, names) {
  for (const name of names) {
    const dep = resolve(dir, name);
    if (seen.has(dep)) continue;
    seen.add(dep);
    walk(dep, Object.keys(pkgOf(dep).dependencies ?? {}));
  }
}
const wanted = process.argv.slice(2);
if (wanted.length === 0) {
  console.error("usage: node scripts/build/prod-deps.mjs PACKAGE...");
  process.exit(2);
}
walk(root, wanted);
for (const d of [...seen].sort()) console.log(path.relative(root, d));

// Prints the node_modules directories the installed daemon needs: the runtime dependencies and what they
// require, without optional ones (dbus-next's optional usocket would drag node-gyp and its tree along).
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

function walk(dir) {
  for (const name of Object.keys(pkgOf(dir).dependencies ?? {})) {
    const dep = resolve(dir, name);
    if (seen.has(dep)) continue;
    seen.add(dep);
    walk(dep);
  }
}
walk(root);
for (const d of [...seen].sort()) console.log(path.relative(root, d));

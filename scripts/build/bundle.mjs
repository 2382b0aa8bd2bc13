// Bundles dist/cli.js into OUTDIR/bootwarden.mjs and OUTDIR/chunks/: one entry file and a few chunks, for a short
// start (no module resolution over hundreds of files), while what only some starts need (the YAML parser and the
// schema library when the config cache misses, the CLI's other commands) stays in chunks that are not even read
// otherwise. The native addons stay external: they go beside it in OUTDIR/node_modules (scripts/build/prod-deps.mjs).
// Usage: node scripts/build/bundle.mjs OUTDIR NODE_TARGET    (NODE_TARGET: node20 for the host's Node, node22 bundled)
// test/unit/bundle-stubs.test.ts bundles with the same options (bundleOptions) to run dbus-next through the stubs.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** esbuild's options for bootwarden's bundles. */
export const bundleOptions = (outdir, target, entryPoints = [path.join(repo, "dist/cli.js")]) => ({
  entryPoints,
  bundle: true,
  platform: "node",
  format: "esm",
  target,
  splitting: true,
  outdir,
  entryNames: "bootwarden",
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  legalComments: "none",
  logLevel: "warning",
  external: ["systemd-journald", "unix-dgram", "usocket", "x11", "abstract-socket"],
  // What dbus-next loads at start for things bootwarden never does (or does late): see each stub.
  alias: {
    xml2js: path.join(repo, "scripts/build/stubs/xml2js.cjs"),
    crypto: path.join(repo, "scripts/build/stubs/lazy-crypto.cjs"),
    assert: path.join(repo, "scripts/build/stubs/lazy-assert.cjs"),
  },
  // The CommonJS dependencies call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __bwRequire } from 'node:module'; const require = __bwRequire(import.meta.url);",
  },
});

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [outdir, target] = process.argv.slice(2);
  if (!outdir || !/^node\d+$/.test(target ?? "")) {
    console.error("usage: node scripts/build/bundle.mjs OUTDIR node<MAJOR>");
    process.exit(2);
  }
  await build(bundleOptions(outdir, target));
  // Always run as `node bootwarden.mjs` (the wrapper, the units): no #!/usr/bin/env line for packagers' linters to
  // resolve (rpmlint: env-script-interpreter).
  const entry = path.join(outdir, "bootwarden.mjs");
  writeFileSync(entry, readFileSync(entry, "utf8").replace(/^#!.*\n/, ""));
  chmodSync(entry, 0o644);
}

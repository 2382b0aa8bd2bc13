import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const FLATCAR_USR = "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6";
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(REPO, "dist/cli.js");

/** These suites use the real tools; CI installs them (cgpt, gdisk, grub-common). Missing tools fail loudly. */
export function requireTool(name: string): void {
  const r = spawnSync("sh", ["-c", `command -v ${name}`]);
  if (r.status !== 0)
    throw new Error(`${name} is not installed: run .ci/run or apt-get install the test tools`);
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), "bootwarden-test-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A 64 MiB disk with USR-A, USR-B (Flatcar USR type) and ROOT, made by sgdisk; A is the good, booted slot. */
export { makeFlatcarDisk } from "../../scripts/lib/harness.mjs";

export interface CgptAttrs {
  priority: number;
  tries: number;
  successful: boolean;
}

export function cgptAttrs(file: string, index: number): CgptAttrs {
  const get = (flag: string) => Number(sh("cgpt", ["show", "-i", String(index), flag, file]).trim());
  return { priority: get("-P"), tries: get("-T"), successful: get("-S") === 1 };
}

export function sgdiskVerify(file: string): string {
  return sh("sgdisk", ["-v", file]);
}

export function writeConfig(dir: string, yaml: string, name = "config.yaml"): string {
  const f = path.join(dir, name);
  writeFileSync(f, yaml);
  return f;
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** The built CLI; killed after `timeoutMs` (status -1, "killed: ..." ending its stderr) so that a hang fails a test. */
/** No system bus (whatever the host has): check-config then skips its look at the units, and says so. */
export const NO_BUS = { DBUS_SYSTEM_BUS_ADDRESS: "unix:path=/nonexistent/bootwarden-test/system_bus_socket" };
export const NO_BUS_WARNING =
  "bootwarden: warning: systemd is not reachable over the system bus (ENOENT): the critical and wanted units were not checked\n";

export function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: timeoutMs,
  });
  if (r.error)
    return { status: -1, stdout: r.stdout ?? "", stderr: `${r.stderr ?? ""}killed: ${r.error.message}` };
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a QEMU tier's script (scripts/e2e/) with OUT set; its status and everything it printed. */
export function runTierScript(script: string, out: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [path.join(REPO, "scripts/e2e", script)], {
      env: { ...process.env, OUT: out },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("exit", (code) => resolve({ code: code ?? -1, output }));
  });
}

/**
 * The CLI with `args`, and with `inject` (strace's inject=SYSCALL:error=...:when=N) the Nth such call failing. One
 * libuv thread: strace counts per thread, so the Nth write is the Nth of the operation.
 */
export function cliWithFault(args: string[], inject?: string) {
  const strace = inject
    ? ["-f", "-qq", "-o", "/dev/null", "-e", `trace=${inject.split(":")[0]}`, "-e", `inject=${inject}`]
    : [];
  const argv = [...strace, process.execPath, CLI, ...args];
  return spawnSync(inject ? "strace" : argv[0]!, inject ? argv : argv.slice(1), {
    encoding: "utf8",
    env: { ...process.env, UV_THREADPOOL_SIZE: "1" },
  });
}

/** The npm packages whose licences a shipped copyright file must carry (the bundle's and the addons'). */
export const BUNDLED_PACKAGES = [
  "dbus-next",
  "zod",
  "yaml",
  "pino",
  "chokidar",
  "node-cron",
  "systemd-journald",
  "unix-dgram",
];

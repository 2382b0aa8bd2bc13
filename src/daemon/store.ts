import { constants as fsc } from "node:fs";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import path from "node:path";
import { RUN_DIR, STATE_DIR, sysPath } from "../paths.js";
import type { Assessment } from "./assessment.js";

/** What the daemon keeps in /run/bootwarden/status.json: enough to resume after a crash and to answer `status`. */
export interface DaemonStatus {
  phase: "normal" | "assessing" | "verdict" | "config-error" | "error";
  slot?: string;
  trialBoot?: boolean;
  updatedAt: string;
  pid: number;
  deadlineMonotonicMs?: number;
  assessment?: Assessment;
  /** Verdict effects already carried out, so a restarted daemon never acts twice. */
  done: string[];
  error?: string;
  notes: string[];
}

export interface LastTrial {
  slot: string;
  verdict: string;
  reason: string;
  at: string;
  reported?: boolean;
}

export const runFile = (name: string) => sysPath(path.join(RUN_DIR, name));
export const stateFile = (name: string) => sysPath(path.join(STATE_DIR, name));

/** Write-sync-rename: readers (`bootwarden status`, `wait`) never see half a file. */
export async function writeAtomic(file: string, data: string, durable = false): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC, 0o644);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  if (durable) {
    const dir = await open(path.dirname(file), fsc.O_RDONLY | fsc.O_DIRECTORY);
    await dir.sync().finally(() => dir.close());
  }
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

export const readStatus = () => readJson<DaemonStatus>(runFile("status.json"));
export const writeStatus = (s: DaemonStatus) =>
  writeAtomic(runFile("status.json"), `${JSON.stringify(s, null, 1)}\n`);
export const readLastTrial = () => readJson<LastTrial>(stateFile("last-trial.json"));
export const writeLastTrial = (t: LastTrial) =>
  writeAtomic(stateFile("last-trial.json"), `${JSON.stringify(t)}\n`, true);

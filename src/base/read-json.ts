import { errnoText } from "./errors.js";
import { readRegular } from "./read-regular.js";

/** What a record parser makes of a file: the value it can trust (or none), and what was wrong, if anything. */
export interface Parsed<T> {
  value?: T;
  problem?: string;
}

/**
 * A JSON record of ours, checked by `parse`. Missing: no value, no problem. Anything else that is not what we write
 * (not JSON, the wrong shape, a FIFO in its place) is a problem naming the file, never an exception: a record is
 * never worth a crash, and the next write replaces it.
 */
export async function readRecord<T>(file: string, parse: (v: unknown) => Parsed<T>): Promise<Parsed<T>> {
  let text: string;
  try {
    text = (await readRegular(file, 4 << 20)).toString("utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    return { problem: `${file}: cannot read: ${errnoText(err)}` };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { problem: `${file}: not valid JSON` };
  }
  const out = parse(v);
  return out.problem ? { ...out, problem: `${file}: ${out.problem}` } : out;
}

/** A JSON record of ours with no shape check, or undefined when it is missing or unreadable. */
export async function readJson<T>(file: string): Promise<T | undefined> {
  return (await readRecord(file, (v) => ({ value: v as T }))).value;
}

import { readFile } from "node:fs/promises";

/** A JSON record of ours, or undefined when it is missing or unreadable (a record is never worth a crash). */
export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

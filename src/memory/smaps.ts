/** A range of this process's address space, [start, end), in bytes. */
export interface PageRange {
  start: bigint;
  end: bigint;
  /** Resident bytes in it when smaps was read. */
  rss: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) [0-9a-f]+ \S+ (\d+)\s*(.*)$/;
const FIELD = /^(\w+):\s+(\d+) kB$/;

/**
 * The mappings of `file` (the node binary) whose pages MADV_DONTNEED can drop without changing a byte the process
 * sees: readable, never writable, private, backed by the file (inode ≠ 0), and without a single page copied on
 * write (Anonymous: 0). Their pages come back from the page cache on the next touch. The relocated read-only part
 * (RELRO: .got, .data.rel.ro) is written once at load and then protected, so its copied pages show as Anonymous:
 * dropping them would bring the file's unrelocated bytes back; it is left out, as is anything writable. A block
 * without its Anonymous line is left out too: the kernel's format is the only proof.
 */
export function droppableRanges(smaps: string, file: string): PageRange[] {
  const out: PageRange[] = [];
  let cur: { range: PageRange; candidate: boolean; anonymous?: number } | undefined;
  const close = () => {
    if (cur?.candidate && cur.anonymous === 0 && cur.range.rss > 0) out.push(cur.range);
  };
  for (const line of smaps.split("\n")) {
    const h = HEADER.exec(line);
    if (h) {
      close();
      const [, start, end, perms, inode, name] = h as unknown as string[];
      const named = name === file || name === `${file} (deleted)`;
      cur = {
        range: { start: BigInt(`0x${start}`), end: BigInt(`0x${end}`), rss: 0 },
        candidate: named && perms![0] === "r" && perms![1] === "-" && perms![3] === "p" && inode !== "0",
      };
      continue;
    }
    const f = cur && FIELD.exec(line);
    if (!f || !cur) continue;
    if (f[1] === "Rss") cur.range.rss = Number(f[2]) * 1024;
    else if (f[1] === "Anonymous") cur.anonymous = Number(f[2]);
  }
  close();
  return out;
}

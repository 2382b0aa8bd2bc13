/**
 * The one rule for paths whose content decides as root (flags, check and hook scripts, their directories): owned by
 * root and writable by no one else. Returns what is wrong, phrased to follow "<path> is ", or undefined.
 */
export function trustProblem(st: { uid: number; mode: number }): string | undefined {
  if (st.uid !== 0) return `owned by uid ${st.uid}, not root`;
  if (st.mode & 0o022) return `writable by ${st.mode & 0o002 ? "every user" : "its group"}`;
  return undefined;
}

/** "1 try", "3 tries": counts in messages read as sentences. */
export const nTries = (n: number): string => `${n} ${n === 1 ? "try" : "tries"}`;

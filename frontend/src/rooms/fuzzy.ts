import { fold } from "./sections";

/**
 * A fuzzy match, as quick switchers do it: the query's letters in order, not necessarily
 * together ("btlnch" finds "beta-launch"). Higher is better: letters together, at the start of
 * a word, and at the start of the text count more; null when the letters are not all there.
 */
export function fuzzyScore(query: string, text: string): number | null {
  const q = fold(query.replace(/\s+/g, ""));
  const t = fold(text);
  if (!q) return 0;
  let score = 0;
  let at = 0;
  let previous = -2;
  for (const char of q) {
    const found = t.indexOf(char, at);
    if (found < 0) return null;
    score += 1;
    if (found === previous + 1) score += 3; // together
    if (found === 0 || /[\s\-_#.,]/.test(t[found - 1] ?? "")) score += 2; // a word's start
    previous = found;
    at = found + 1;
  }
  if (t.replace(/^#\s*/, "").startsWith(q)) score += 5; // the name itself starts so
  return score - t.length / 100; // of two as good, the shorter
}

/** The items that match, best first (ties in their given order). */
export function fuzzyFilter<T>(query: string, items: readonly T[], text: (item: T) => string, limit = 12): T[] {
  const scored: { item: T; score: number; index: number }[] = [];
  items.forEach((item, index) => {
    const score = fuzzyScore(query, text(item));
    if (score !== null) scored.push({ item, score, index });
  });
  scored.sort((a, b) => b.score - a.score || a.index - b.index);
  return scored.slice(0, limit).map((s) => s.item);
}

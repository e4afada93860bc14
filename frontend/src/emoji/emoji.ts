import SHORTCODES from "markdown-it-emoji/lib/data/full.mjs";

/**
 * Emoji by name: GitHub's shortcodes (`:tada:`), from markdown-it-emoji's data, which the
 * message renderer uses too; the user's recent ones, kept in the browser; and whether a
 * message is nothing but emoji (shown large).
 */

export { SHORTCODES };

export interface NamedEmoji {
  emoji: string;
  /** Its shortcode, without colons. */
  name: string;
}

/** One entry per emoji, under its first (most common) shortcode. */
const ALL: NamedEmoji[] = (() => {
  const seen = new Set<string>();
  const all: NamedEmoji[] = [];
  for (const [name, emoji] of Object.entries(SHORTCODES)) {
    if (seen.has(emoji)) continue;
    seen.add(emoji);
    all.push({ emoji, name });
  }
  return all;
})();

const NAME_OF = new Map(ALL.map((e) => [e.emoji, e.name]));

export function nameOf(emoji: string): string {
  return NAME_OF.get(emoji) ?? "";
}

export const COMMON = ["👍", "❤️", "😂", "🎉", "👀", "✅", "🙏", "🔥", "😮", "😢", "🚀", "👎", "💯", "🤔", "👏", "☕"];

/** Emoji whose shortcodes start with the query, then those containing it; each once. */
export function searchEmoji(query: string, limit = 48): NamedEmoji[] {
  const q = query.trim().toLowerCase().replace(/^:|:$/g, "").replace(/\s+/g, "_");
  if (!q) return [];
  const starts: NamedEmoji[] = [];
  const contains: NamedEmoji[] = [];
  const seen = new Set<string>();
  for (const [name, emoji] of Object.entries(SHORTCODES)) {
    if (seen.has(emoji)) continue;
    if (name.startsWith(q)) {
      starts.push({ emoji, name });
      seen.add(emoji);
    } else if (name.includes(q)) {
      contains.push({ emoji, name });
      seen.add(emoji);
    }
  }
  return [...starts, ...contains.filter((e) => !starts.some((s) => s.emoji === e.emoji))].slice(0, limit);
}

const RECENT_KEY = "hubbub.recentEmoji";
const RECENT_MAX = 16;

export function recentEmoji(): string[] {
  try {
    const saved: unknown = JSON.parse(window.localStorage.getItem(RECENT_KEY) ?? "[]");
    return Array.isArray(saved) ? saved.filter((e): e is string => typeof e === "string").slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}

export function rememberEmoji(emoji: string): void {
  try {
    const recent = [emoji, ...recentEmoji().filter((e) => e !== emoji)].slice(0, RECENT_MAX);
    window.localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
  } catch {
    // storage disabled: nothing is remembered
  }
}

/** What the picker offers before anything is searched: recent first, then common ones. */
export function startingEmoji(): NamedEmoji[] {
  const recent = recentEmoji();
  return [...recent, ...COMMON.filter((e) => !recent.includes(e))].map((emoji) => ({ emoji, name: nameOf(emoji) }));
}

const SHORTCODE = /:([a-z0-9_+-]+):/g;
const KEYCAP = /[#*0-9]\uFE0F?\u20E3/gu;
const PICTOGRAPH = /[\p{Extended_Pictographic}\p{Regional_Indicator}]/u;
// What may stand beside pictographs in an emoji: skin tones, joiners, variation selectors, tags.
const EMOJI_PART = /^(?:[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\u{E0020}-\u{E007F}\s]|\u200D|\uFE0F)*$/u;
const EMOJI_ONLY_MAX = 8;

/** A body of one to EMOJI_ONLY_MAX emoji and nothing else (shortcodes count as theirs). */
export function isEmojiOnly(body: string): boolean {
  const text = body.replace(SHORTCODE, (whole, name: string) => SHORTCODES[name] ?? whole).trim();
  if (!text) return false;
  const keycaps = text.match(KEYCAP)?.length ?? 0;
  const rest = text.replace(KEYCAP, "");
  if (!EMOJI_PART.test(rest) || (keycaps === 0 && !PICTOGRAPH.test(rest))) return false;
  return [...new Intl.Segmenter().segment(rest.replace(/\s+/g, ""))].length + keycaps <= EMOJI_ONLY_MAX;
}

import { fold } from "../rooms/sections";

// A name's characters: letters and digits of any script (with their marks), '_', '.', '-'.
const NAME_CHAR = String.raw`[\p{L}\p{N}\p{M}_.-]`;
const TYPED = new RegExp(String.raw`(?:^|[\s(])@(${NAME_CHAR}*(?: ${NAME_CHAR}+)?)$`, "u");

/** The "@name" being typed just before the caret, if any: where it starts, and what is typed. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = TYPED.exec(before);
  if (!match) return null;
  const query = match[1] ?? "";
  return { start: caret - query.length - 1, query };
}

/** Members whose login or display name starts with the query, then those where either contains
 * it; case and accents aside ("zoe" finds Zoë, "love" finds ada shown as Ada Lovelace). */
export function matchMembers(
  members: string[],
  query: string,
  limit = 6,
  shown: (name: string) => string = (name) => name,
): string[] {
  const q = fold(query);
  const names = (m: string) => [fold(m), fold(shown(m))];
  const starts = members.filter((m) => names(m).some((n) => n.startsWith(q)));
  const contains = members.filter((m) => !starts.includes(m) && names(m).some((n) => n.includes(q)));
  return [...starts, ...contains].slice(0, limit);
}

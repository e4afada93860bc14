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

/** Members whose name starts with the query, then those containing it; case and accents
 * aside ("zoe" finds Zoë). */
export function matchMembers(members: string[], query: string, limit = 6): string[] {
  const q = fold(query);
  const starts = members.filter((m) => fold(m).startsWith(q));
  const contains = members.filter((m) => !fold(m).startsWith(q) && fold(m).includes(q));
  return [...starts, ...contains].slice(0, limit);
}

/**
 * A search hit's line of context, with its matches marked. The server says where the matches
 * are (offsets in UTF-16 units of the body, as JavaScript counts); the text is cut and marked
 * here, as plain text: React escapes it, and no HTML ever comes from the server.
 */

export interface Piece {
  text: string;
  marked: boolean;
}

const CONTEXT_CHARS = 160; // about a line
const BEFORE_MATCH = 40; // of it, before the first match

/** Whether the index falls between the halves of a surrogate pair (an emoji, say). */
function splitsPair(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  return at > 0 && at < text.length && code >= 0xdc00 && code <= 0xdfff;
}

/** The body on one line, cut to about CONTEXT_CHARS around its first match, as pieces that
 * are marked or not; "…" where it was cut. */
export function snippet(body: string, marks: readonly (readonly number[])[]): Piece[] {
  const flat = body.replace(/\s/g, " "); // same length: the offsets still hold
  const first = marks[0]?.[0] ?? 0;
  let start = flat.length <= CONTEXT_CHARS ? 0 : Math.max(0, Math.min(first - BEFORE_MATCH, flat.length - CONTEXT_CHARS));
  if (splitsPair(flat, start)) start -= 1;
  let end = Math.min(flat.length, start + CONTEXT_CHARS);
  if (splitsPair(flat, end)) end += 1;
  const pieces: Piece[] = [];
  const plain = (from: number, to: number) => {
    if (to > from) pieces.push({ text: flat.slice(from, to), marked: false });
  };
  let at = start;
  for (const [offset = 0, length = 0] of marks) {
    const from = Math.max(offset, at);
    const to = Math.min(offset + length, end);
    if (to <= from) continue;
    plain(at, from);
    pieces.push({ text: flat.slice(from, to), marked: true });
    at = to;
  }
  plain(at, end);
  if (start > 0) pieces.unshift({ text: "…", marked: false });
  if (end < flat.length) pieces.push({ text: "…", marked: false });
  return pieces;
}

/** Hits grouped by room, the rooms in the order of their newest hit; each hit keeps its
 * place in the list (`index`) for the keyboard. */
export function byRoom<T extends { message: { room: string } }>(hits: readonly T[]): { room: string; hits: { hit: T; index: number }[] }[] {
  const groups = new Map<string, { hit: T; index: number }[]>();
  for (const hit of hits) {
    const group = groups.get(hit.message.room) ?? [];
    group.push({ hit, index: 0 });
    groups.set(hit.message.room, group);
  }
  let index = 0;
  return [...groups].map(([room, list]) => ({ room, hits: list.map(({ hit }) => ({ hit, index: index++ })) }));
}

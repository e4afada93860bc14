/**
 * The search operators, offered as one types (docs/protocol.md, "Search"): the word being
 * typed is the last one, and what completes it replaces it.
 */

export interface Suggestion {
  /** The query with the word being typed completed. */
  query: string;
  /** What the list shows. */
  label: string;
  note: string;
}

export const OPERATORS: readonly (readonly [operator: string, note: string])[] = [
  ["from:", "messages by someone"],
  ["in:", "messages in one room"],
  ["has:link", "messages with a link"],
  ["has:file", "messages with a file"],
  ["is:mentioned", "messages that mention you"],
  ["before:", "before a day (2026-11-30)"],
  ["after:", "after a day"],
  ['"', "an exact phrase"],
  ["-", "without a word"],
];

const MAX_SUGGESTIONS = 6;

function isoDay(ms: number): string {
  const day = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
}

/** What completes the last word of `query`: an operator its first letters name, a room for
 * in:, a person for from:, today for before: and after:. `rooms` and `people` are names. */
export function suggestions(query: string, rooms: readonly string[], people: readonly string[], now: number): Suggestion[] {
  const cut = query.search(/\S*$/);
  const head = query.slice(0, cut);
  const word = query.slice(cut);
  const lower = word.toLowerCase();
  if (lower === "" || lower.startsWith('"') || lower.startsWith("-")) return [];
  const complete = (done: string, note: string): Suggestion => ({ query: `${head}${done} `, label: done, note });
  const colon = lower.indexOf(":");
  if (colon < 0) {
    return OPERATORS.filter(([op]) => op.length > 1 && op.startsWith(lower) && op !== lower).map(([op, note]) =>
      op.endsWith(":") ? { query: head + op, label: op, note } : complete(op, note),
    );
  }
  const key = lower.slice(0, colon + 1);
  const value = word.slice(colon + 1).toLowerCase();
  const names = key === "in:" ? rooms : key === "from:" ? people : null;
  if (names) {
    return names
      .filter((name) => name.toLowerCase().startsWith(value) && name.toLowerCase() !== value)
      .slice(0, MAX_SUGGESTIONS)
      .map((name) => complete(`${key}${name}`, key === "in:" ? "room" : "person"));
  }
  if ((key === "before:" || key === "after:") && value === "") return [complete(`${key}${isoDay(now)}`, "today")];
  return OPERATORS.filter(([op]) => op.startsWith(key) && op.length > key.length && op.startsWith(lower) && op !== lower).map(
    ([op, note]) => complete(op, note),
  );
}

/** The "@name" being typed just before the caret, if any: where it starts, and what is typed. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(?:^|[\s(])@([\w.-]*(?: [\w.-]+)?)$/u.exec(before);
  if (!match) return null;
  const query = match[1] ?? "";
  return { start: caret - query.length - 1, query };
}

/** Members whose name starts with the query (case-insensitive), then those containing it. */
export function matchMembers(members: string[], query: string, limit = 6): string[] {
  const q = query.toLowerCase();
  const starts = members.filter((m) => m.toLowerCase().startsWith(q));
  const contains = members.filter((m) => !m.toLowerCase().startsWith(q) && m.toLowerCase().includes(q));
  return [...starts, ...contains].slice(0, limit);
}

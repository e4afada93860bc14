import { describe, expect, it } from "vitest";

import { suggestions } from "./operators";
import { byRoom, snippet } from "./snippet";

const text = (pieces: { text: string; marked: boolean }[]) => pieces.map((p) => (p.marked ? `[${p.text}]` : p.text)).join("");

describe("snippet", () => {
  it("marks what the offsets say, on one line", () => {
    expect(text(snippet("the Hôtel\nis open", [[4, 5]]))).toBe("the [Hôtel] is open");
    expect(text(snippet("a b", []))).toBe("a b");
  });

  it("counts UTF-16 units as the server does, and never cuts an emoji in half", () => {
    const body = "🎉 party 🎉";
    expect(text(snippet(body, [[3, 5]]))).toBe("🎉 [party] 🎉");
    const long = `${"🎉".repeat(100)} needle ${"x".repeat(300)}`;
    const shown = text(snippet(long, [[201, 6]]));
    expect(shown).toContain("[needle]");
    expect(shown.startsWith("…🎉")).toBe(true);
    expect(shown.endsWith("…")).toBe(true);
    expect(shown.length).toBeLessThan(175);
  });

  it("keeps marks that the cut reaches only in part", () => {
    const body = "a".repeat(300);
    expect(text(snippet(body, [[0, 2], [299, 1]]))).toBe(`[aa]${"a".repeat(158)}…`);
  });
});

describe("byRoom", () => {
  it("groups in the order of each room's newest hit, numbering hits as shown", () => {
    const hit = (room: string, seq: number) => ({ message: { room, seq } });
    const groups = byRoom([hit("a", 9), hit("b", 8), hit("a", 7)]);
    expect(groups.map((g) => [g.room, g.hits.map((h) => [h.hit.message.seq, h.index])])).toEqual([
      ["a", [[9, 0], [7, 1]]],
      ["b", [[8, 2]]],
    ]);
  });
});

describe("suggestions", () => {
  const now = new Date(2026, 10, 30, 12).getTime();
  const rooms = ["general", "genealogy", "dev"];
  const people = ["alice", "albert"];
  const offered = (q: string) => suggestions(q, rooms, people, now).map((s) => s.query);

  it("offers operators by their first letters, and what they take", () => {
    expect(offered("deploy f")).toEqual(["deploy from:"]);
    expect(offered("deploy from:al")).toEqual(["deploy from:alice ", "deploy from:albert "]);
    expect(offered("in:gen")).toEqual(["in:general ", "in:genealogy "]);
    expect(offered("h")).toEqual(["has:link ", "has:file "]);
    expect(offered("has:f")).toEqual(["has:file "]);
    expect(offered("is:")).toEqual(["is:mentioned "]);
    expect(offered("before:")).toEqual(["before:2026-11-30 "]);
  });

  it("offers nothing for a word that is done, a phrase or an exclusion", () => {
    expect(offered("")).toEqual([]);
    expect(offered("deploy ")).toEqual([]);
    expect(offered("in:general")).toEqual([]);
    expect(offered('"fr')).toEqual([]);
    expect(offered("-fr")).toEqual([]);
    expect(offered("xyz")).toEqual([]);
  });
});

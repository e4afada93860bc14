import { describe, expect, it } from "vitest";

import { newMeta, type RoomMeta } from "./Directory";
import { fuzzyFilter, fuzzyScore } from "./fuzzy";
import { neighbour, order, sections } from "./sections";

function room(name: string, extra: Partial<RoomMeta> = {}): RoomMeta {
  return newMeta(name, "public", { member: true, ...extra });
}

const directory: Record<string, RoomMeta> = Object.fromEntries(
  [
    room("beta"),
    room("alpha", { unread: 2 }),
    room("gamma"),
    room("town", { member: false }),
    room("old", { archived: true }),
    newMeta("dm-1", "dm", { member: true, members: ["ada", "zoë"] }),
    newMeta("dm-2", "dm", { member: true, members: ["ada", "bob"], unread: 1 }),
  ].map((r) => [r.name, r]),
);

describe("sidebar sections", () => {
  it("puts what is unread first, then the user's rooms, then DMs; the rest is for Browse rooms", () => {
    const listed = sections(directory, "beta", "ada", room("beta"));
    expect(listed.unread.map((r) => r.name)).toEqual(["alpha", "dm-2"]);
    expect(listed.rooms.map((r) => r.name)).toEqual(["beta", "gamma"]);
    expect(listed.direct.map((r) => r.name)).toEqual(["dm-1"]);
    expect(order(listed)).toEqual(["alpha", "dm-2", "beta", "gamma", "dm-1"]);
  });

  it("lists the room on screen even when it is not one of the user's, and keeps an opened unread room in place", () => {
    expect(sections(directory, "town", "ada", room("town")).rooms.map((r) => r.name)).toContain("town");
    expect(sections(directory, "nowhere", "ada", room("nowhere")).rooms.map((r) => r.name)).toContain("nowhere");
    const read = { ...directory, alpha: room("alpha") };
    expect(sections(read, "alpha", "ada", room("alpha"), "alpha").unread.map((r) => r.name)).toEqual(["alpha", "dm-2"]);
    expect(sections(read, "alpha", "ada", room("alpha")).unread.map((r) => r.name)).toEqual(["dm-2"]);
  });

  it("filters by label, accents aside", () => {
    const listed = sections(directory, "beta", "ada", room("beta"), null, "ZOE");
    expect(order(listed)).toEqual(["dm-1"]);
  });

  it("finds the next and previous room, or unread room, wrapping around", () => {
    const listed = sections(directory, "beta", "ada", room("beta"));
    expect(neighbour(listed, "beta", 1, false)).toBe("gamma");
    expect(neighbour(listed, "alpha", -1, false)).toBe("dm-1");
    expect(neighbour(listed, "beta", 1, true)).toBe("alpha");
    expect(neighbour(listed, "beta", -1, true)).toBe("dm-2");
    expect(neighbour(sections({}, "x", "ada", room("x")), "x", 1, true)).toBeNull();
  });
});

describe("fuzzy matching", () => {
  it("finds letters in order, preferring them together and at word starts", () => {
    expect(fuzzyScore("btlnch", "# beta-launch")).not.toBeNull();
    expect(fuzzyScore("xyz", "# beta-launch")).toBeNull();
    const names = ["# general", "# beta-launch", "# launch-party", "bob"];
    expect(fuzzyFilter("launch", names, (n) => n)).toEqual(["# launch-party", "# beta-launch"]);
    expect(fuzzyFilter("gen", names, (n) => n)[0]).toBe("# general");
    expect(fuzzyFilter("zoe", ["Zoë"], (n) => n)).toEqual(["Zoë"]);
  });
});

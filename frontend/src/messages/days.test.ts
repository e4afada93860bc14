import { describe, expect, it } from "vitest";

import { dayKey, dayLabel } from "./days";
import { matchMembers, mentionQuery } from "./mentionQuery";

describe("day separators", () => {
  const now = new Date(2026, 10, 25, 15, 0).getTime();
  it("say Today, Yesterday, then the date", () => {
    expect(dayLabel(new Date(2026, 10, 25, 0, 1).getTime(), now, "en")).toBe("Today");
    expect(dayLabel(new Date(2026, 10, 24, 23, 59).getTime(), now, "en")).toBe("Yesterday");
    expect(dayLabel(new Date(2026, 10, 20, 9, 0).getTime(), now, "en")).toBe("Friday, November 20");
    expect(dayLabel(new Date(2025, 0, 2, 9, 0).getTime(), now, "en")).toBe("Thursday, January 2, 2025");
    expect(dayKey(new Date(2026, 10, 25, 0, 0).getTime())).toBe(dayKey(new Date(2026, 10, 25, 23, 59).getTime()));
  });
});

describe("@ autocomplete", () => {
  it("finds the name being typed before the caret", () => {
    expect(mentionQuery("hi @an", 6)).toEqual({ start: 3, query: "an" });
    expect(mentionQuery("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionQuery("mail@an", 7)).toBeNull();
    expect(mentionQuery("hi @an and more", 15)).toBeNull();
  });

  it("suggests members starting with it first, then containing it", () => {
    expect(matchMembers(["dana", "ann", "Anna", "bob"], "an")).toEqual(["ann", "Anna", "dana"]);
  });
});

import { describe, expect, it } from "vitest";

import { matchMembers, mentionQuery } from "./mentionQuery";

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

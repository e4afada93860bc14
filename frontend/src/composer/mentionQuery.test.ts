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

  it("finds people by their display name too", () => {
    const shown = (name: string) => ({ al: "Ada Lovelace", bo: "Bob" })[name] ?? name;
    expect(matchMembers(["al", "bo", "lou"], "ada", 6, shown)).toEqual(["al"]);
    expect(matchMembers(["al", "bo", "lou"], "lo", 6, shown)).toEqual(["lou", "al"]);
    expect(matchMembers(["al", "bo"], "al", 6, shown)).toEqual(["al"]);
  });
});

describe("@ autocomplete in any script", () => {
  it("reads names past the first non-ASCII letter", () => {
    expect(mentionQuery("hi @Zoë", 7)).toEqual({ start: 3, query: "Zoë" });
    expect(mentionQuery("@مح", 3)).toEqual({ start: 0, query: "مح" });
    expect(mentionQuery("@Иван Пет", 9)).toEqual({ start: 0, query: "Иван Пет" });
    expect(matchMembers(["Zoë", "محمد", "zoran"], "zoe")).toEqual(["Zoë"]);
    expect(matchMembers(["Zoë", "محمد"], "مح")).toEqual(["محمد"]);
  });
});

import { describe, expect, it } from "vitest";

import { isEmojiOnly, searchEmoji, startingEmoji } from "./emoji";

describe("emoji", () => {
  it("finds emoji by shortcode, those starting with the query first", () => {
    expect(searchEmoji("tada")[0]).toEqual({ emoji: "🎉", name: "tada" });
    expect(searchEmoji(":tada:")[0]?.emoji).toBe("🎉");
    const hearts = searchEmoji("heart").map((e) => e.name);
    expect(hearts[0]?.startsWith("heart")).toBe(true);
    expect(hearts.some((name) => name.includes("_heart"))).toBe(true);
    expect(new Set(searchEmoji("smile").map((e) => e.emoji)).size).toBe(searchEmoji("smile").length);
    expect(searchEmoji("")).toEqual([]);
  });

  it("offers the recent ones first, then common ones, each named", () => {
    window.localStorage.setItem("hubbub.recentEmoji", JSON.stringify(["🦄"]));
    const offered = startingEmoji();
    expect(offered[0]).toEqual({ emoji: "🦄", name: "unicorn" });
    expect(offered.map((e) => e.emoji)).toContain("👍");
  });

  it("tells a message of only emoji (a few) from one with words", () => {
    for (const body of ["🎉", " 👍🏽 ", "🎉🎉🎉", ":tada:", "👨‍👩‍👧", "🇫🇷", "❤️", "1️⃣"]) expect(isEmojiOnly(body), body).toBe(true);
    for (const body of ["hi 🎉", "123", "", ":nosuchcode:", "🎉".repeat(9), "# 🎉", "**🎉**"]) {
      expect(isEmojiOnly(body), body).toBe(false);
    }
  });
});

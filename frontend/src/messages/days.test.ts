import { describe, expect, it } from "vitest";

import { dayKey, dayLabel } from "./days";

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

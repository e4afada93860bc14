import { describe, expect, it } from "vitest";

import { formatSize, kindOf, previewSize } from "./format";

describe("format", () => {
  it("says sizes as people read them", () => {
    expect(formatSize(0)).toBe("0 bytes");
    expect(formatSize(1023)).toBe("1,023 bytes");
    expect(formatSize(1536)).toBe("1.5 KB");
    expect(formatSize(25 * 1024 * 1024)).toBe("25 MB");
  });

  it("fits previews in their box without enlarging them", () => {
    expect(previewSize(100, 50)).toEqual({ width: 100, height: 50 });
    expect(previewSize(3200, 1200)).toEqual({ width: 320, height: 120 });
    expect(previewSize(600, 2400)).toEqual({ width: 60, height: 240 });
    expect(previewSize(100000, 1)).toEqual({ width: 320, height: 1 });
  });

  it("names kinds of files", () => {
    expect(kindOf("application/pdf")).toBe("PDF");
    expect(kindOf("text/html")).toBe("Text");
    expect(kindOf("application/octet-stream")).toBe("File");
  });
});

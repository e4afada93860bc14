import { describe, expect, it } from "vitest";

import { mixesScripts, renderBody } from "./markdown";
import { XSS_PAYLOADS } from "./test-data/xss-payloads";

// Everything the renderer may make; anything else in the output is a hole.
const ALLOWED = new Set(["P", "BR", "STRONG", "EM", "S", "CODE", "PRE", "DIV", "BUTTON", "BLOCKQUOTE", "UL", "OL", "LI", "A", "SPAN"]);
const ATTRIBUTES: Record<string, ReadonlySet<string>> = {
  A: new Set(["href", "target", "rel"]),
  DIV: new Set(["class"]),
  BUTTON: new Set(["type", "class", "data-copy"]),
  PRE: new Set(["tabindex"]),
  SPAN: new Set(["class"]),
  OL: new Set(["start"]),
  CODE: new Set(["data-lang"]),
};

function rendered(body: string, mentions: string[] = []): HTMLElement {
  const host = document.createElement("div");
  host.innerHTML = renderBody(body, mentions);
  return host;
}

function problems(host: HTMLElement): string[] {
  const found: string[] = [];
  for (const element of host.querySelectorAll("*")) {
    if (!ALLOWED.has(element.tagName)) found.push(`element ${element.tagName}`);
    for (const attribute of element.attributes) {
      if (!ATTRIBUTES[element.tagName]?.has(attribute.name)) found.push(`${element.tagName}[${attribute.name}]`);
    }
    if (element.tagName === "A") {
      const href = element.getAttribute("href") ?? "";
      if (!/^https?:\/\//i.test(href)) found.push(`link to ${href}`);
      if (element.getAttribute("rel") !== "noopener noreferrer nofollow") found.push("link without rel");
      if (element.getAttribute("target") !== "_blank") found.push("link in the same tab");
    }
  }
  return found;
}

describe("message formatting", () => {
  it.each(XSS_PAYLOADS.map((payload, index) => [index, payload] as const))(
    "renders OWASP payload %i as inert text",
    (_index, payload) => {
      const host = rendered(payload, ["@room"]);
      expect(problems(host)).toEqual([]);
      // What was typed is still there to read, as text (entities read as what they stand for).
      const decoder = document.createElement("textarea");
      decoder.innerHTML = payload;
      const words = `${payload} ${decoder.value}`.match(/[A-Za-z]{5,}/g) ?? [];
      const visible = host.textContent.toLowerCase();
      const readable =
        visible.includes(payload.slice(0, 10).toLowerCase()) || words.some((word) => visible.includes(word.toLowerCase()));
      expect(readable).toBe(true);
    },
  );

  it("formats the chat subset", () => {
    const host = rendered("**bold** _italic_ ~~gone~~ `code`\n\n> quoted\n\n- one\n- two\n\n1. first\n\n```\nline <b>1</b>\n```");
    expect(host.querySelector("strong")?.textContent).toBe("bold");
    expect(host.querySelector("em")?.textContent).toBe("italic");
    expect(host.querySelector("s")?.textContent).toBe("gone");
    expect(host.querySelector("p > code")?.textContent).toBe("code");
    expect(host.querySelector("blockquote")?.textContent.trim()).toBe("quoted");
    expect([...host.querySelectorAll("ul > li")].map((li) => li.textContent)).toEqual(["one", "two"]);
    expect(host.querySelector("ol > li")?.textContent).toBe("first");
    expect(host.querySelector(".code-block pre code")?.textContent).toBe("line <b>1</b>\n");
    expect(host.querySelector(".code-block button[data-copy]")?.textContent).toBe("Copy");
    expect(problems(host)).toEqual([]);
  });

  it("links bare URLs, opening in a new tab, and nothing else", () => {
    const host = rendered("see https://example.com/a?b=1&c=2 and example.com and [x](https://evil.example)");
    const links = [...host.querySelectorAll("a")];
    // A link always shows where it goes: written links [text](url) stay text, their URL linked.
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://example.com/a?b=1&c=2", "https://evil.example"]);
    expect(links.every((a) => a.textContent === a.getAttribute("href"))).toBe(true);
    expect(host.textContent).toContain("[x](https://evil.example)");
    expect(problems(host)).toEqual([]);
  });

  it("links http and https only: not mailto:, ftp: or a protocol-relative //host", () => {
    const host = rendered("mailto:ann@example.com ftp://example.com/f //example.com/p http://example.com/ok");
    expect([...host.querySelectorAll("a")].map((a) => a.getAttribute("href"))).toEqual(["http://example.com/ok"]);
    expect(host.textContent).toContain("mailto:ann@example.com ftp://example.com/f //example.com/p");
    expect(problems(host)).toEqual([]);
  });

  it("shows a host that mixes scripts as its ASCII name, in the text as in the link", () => {
    // xn--pple-43d.com is "аpple.com" with a Cyrillic а; typed in Unicode, it is the same host.
    for (const body of ["https://xn--pple-43d.com/login", "https://\u0430pple.com/login"]) {
      const link = rendered(body).querySelector("a");
      expect(link?.textContent).toBe("https://xn--pple-43d.com/login");
      expect(link?.getAttribute("href")).toBe("https://xn--pple-43d.com/login");
    }
    // One script (with or without a Latin top-level domain of the same script): as it reads.
    const german = rendered("https://xn--mnchen-3ya.de/").querySelector("a");
    expect(german?.textContent).toBe("https://münchen.de/");
    expect(rendered("https://пример.рф/").querySelector("a")?.textContent).toBe("https://пример.рф/");
    expect(rendered("https://пример.com/").querySelector("a")?.textContent).toBe("https://xn--e1afmkfd.com/");
    expect(mixesScripts("аpple.com")).toBe(true);
    expect(mixesScripts("日本語.jp")).toBe(true);
    expect(mixesScripts("日本語ひらがな.日本")).toBe(false);
  });

  it("shows a paragraph too dear to format as its text, line breaks and mentions kept", () => {
    const links = "https://example.com/x ".repeat(1000);
    const marks = "*a _b_ ~c~ `d` ".repeat(1000);
    const lines = "line\n".repeat(600);
    const www = "www.example.com/x ".repeat(1000);
    const shortcodes = ":tada: ".repeat(1000);
    for (const body of [links, marks, lines, www, shortcodes]) {
      const host = rendered(`${body}@ada`, ["ada"]);
      expect(host.querySelectorAll("a, strong, em, s, code")).toHaveLength(0);
      expect(host.textContent.replace(/\s+/g, " ").trim()).toBe(`${body}@ada`.replace(/\s+/g, " ").trim());
      expect(host.querySelector(".mention")?.textContent).toBe("@ada");
      expect(problems(host)).toEqual([]);
    }
    expect(rendered(lines).querySelectorAll("br")).toHaveLength(599); // between its 600 lines
    // Below the bounds, and in the paragraph next to a dear one, formatting is as ever.
    const mixed = rendered(`**bold** https://example.com\n\n${links}`);
    expect(mixed.querySelector("strong")?.textContent).toBe("bold");
    expect(mixed.querySelectorAll("a")).toHaveLength(1);
  });

  it("keeps headings, rules and images as text", () => {
    const host = rendered("# not a heading\n\n---\n\n![alt](https://example.com/i.png)");
    expect(host.querySelector("h1, hr, img")).toBeNull();
    expect(host.textContent).toContain("# not a heading");
    expect(host.textContent).toContain("![alt](https://example.com/i.png)");
  });

  it("highlights the mentions the server resolved, not every @", () => {
    const host = rendered("hi @ada and @bob, @room", ["ada", "@room"]);
    expect([...host.querySelectorAll(".mention")].map((m) => m.textContent)).toEqual(["@ada", "@room"]);
    const spaced = rendered("thanks @Mary Ann!", ["Mary Ann"]);
    expect(spaced.querySelector(".mention")?.textContent).toBe("@Mary Ann");
  });

  it("links www. addresses (over https), numbers lists, and turns shortcodes into emoji", () => {
    const host = rendered("docs at www.example.org/guide, not example.org\n\n3. third\n4. fourth\n\n:tada: :+1: `:tada:` :) :nosuch:");
    expect([...host.querySelectorAll("a")].map((a) => [a.getAttribute("href"), a.textContent])).toEqual([
      ["https://www.example.org/guide", "www.example.org/guide"],
    ]);
    expect(host.querySelector("ol")?.getAttribute("start")).toBe("3");
    expect(host.querySelectorAll("ol > li")).toHaveLength(2);
    const last = host.querySelectorAll("p")[1];
    expect(last?.textContent).toBe("🎉 👍 :tada: :) :nosuch:");
    expect(problems(host)).toEqual([]);
  });

  it("keeps a fence's language for the highlighter, and nothing that is not a language name", () => {
    expect(rendered("```Python\nx = 1\n```").querySelector("code")?.getAttribute("data-lang")).toBe("python");
    for (const info of ['py" onclick="x', "<script>", "a".repeat(30)]) {
      const host = rendered(`\`\`\`${info}\nx\n\`\`\``);
      expect(host.querySelector("code")?.hasAttribute("data-lang")).toBe(false);
      expect(problems(host)).toEqual([]);
    }
  });

  it("highlights mentions of names in any script", () => {
    const host = rendered("hi @Zoë and @محمد, mail@Zoë", ["Zoë", "محمد"]);
    expect([...host.querySelectorAll(".mention")].map((m) => m.textContent)).toEqual(["@Zoë", "@محمد"]);
  });
});

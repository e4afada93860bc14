// Drives Firefox over WebDriver BiDi with puppeteer-core, for the Python e2e suite
// (engines/drivers.py) where Playwright's own Firefox cannot be downloaded.
//
// One command per line on stdin, one answer per line on stdout, in order:
//   {"id": 1, "op": "newPage", "args": {"colorScheme": "dark", "width": 1100, "height": 700}}
//   {"id": 1, "ok": true, "value": "p1"}            or   {"id": 1, "ok": false, "error": "..."}
// Each page lives in a browser context of its own (its own cookies and storage): one user.
// Firefox over BiDi cannot emulate prefers-color-scheme per page, so each color scheme gets a
// browser of its own, launched on first use with the preference that forces it.
import { createInterface } from "node:readline";

import puppeteer from "puppeteer-core";

const executablePath = process.env.HUBBUB_E2E_FIREFOX ?? "/usr/bin/firefox-esr";
const browsers = new Map(); // color scheme -> Promise<Browser>
const pages = new Map(); // page id -> { page, context }
let nextPage = 0;

function browserFor(colorScheme) {
  if (!browsers.has(colorScheme)) {
    browsers.set(
      colorScheme,
      puppeteer.launch({
        browser: "firefox",
        executablePath,
        headless: true,
        extraPrefsFirefox: {
          // 0: dark, 1: light (what a page sees as prefers-color-scheme)
          "layout.css.prefers-color-scheme.content-override": colorScheme === "dark" ? 0 : 1,
          // A page under test may ask to warn before unload; nothing here answers dialogs.
          "dom.disable_beforeunload": true,
        },
      }),
    );
  }
  return browsers.get(colorScheme);
}

function pageOf(id) {
  const entry = pages.get(id);
  if (!entry) throw new Error(`no page ${id}`);
  return entry.page;
}

const ops = {
  async newPage({ colorScheme = "light", width = 1100, height = 700 }) {
    const browser = await browserFor(colorScheme);
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width, height });
    const id = `p${++nextPage}`;
    pages.set(id, { page, context });
    return id;
  },
  async goto({ page, url }) {
    await pageOf(page).goto(url, { waitUntil: "load" });
    return null;
  },
  async evaluate({ page, source, args }) {
    // Compiled here, in Node: the page's Content-Security-Policy forbids compiling strings.
    const fn = new Function(`return (${source});`)();
    return (await pageOf(page).evaluate(fn, ...args)) ?? null;
  },
  async type({ page, selector, text, enter }) {
    const target = pageOf(page);
    await target.click(selector);
    await target.type(selector, text);
    if (enter) await target.keyboard.press("Enter");
    return null;
  },
  async click({ page, selector }) {
    await pageOf(page).click(selector);
    return null;
  },
  async screenshot({ page, path }) {
    await pageOf(page).screenshot({ path });
    return null;
  },
  async closePage({ page }) {
    const entry = pages.get(page);
    pages.delete(page);
    if (entry) await entry.context.close();
    return null;
  },
  async version() {
    return (await browserFor("light")).version();
  },
};

async function shutdown() {
  for (const browser of browsers.values()) {
    try {
      await (await browser).close();
    } catch {
      // already gone
    }
  }
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(async () => {
    const { id, op, args } = JSON.parse(line);
    let answer;
    try {
      if (!(op in ops)) throw new Error(`unknown op ${op}`);
      answer = { id, ok: true, value: await ops[op](args ?? {}) };
    } catch (error) {
      answer = { id, ok: false, error: String(error?.stack ?? error) };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  });
});
lines.on("close", () => {
  void queue.then(shutdown);
});

import { describe, expect, it } from "vitest";

import { Notifier, type NotifierEnvironment } from "./notifications";

class FakeBrowser implements NotifierEnvironment {
  isHidden = true;
  granted: NotificationPermission = "default";
  answer: NotificationPermission = "granted";
  asked = 0;
  shown: { title: string; body: string; onClick: () => void }[] = [];
  beeps = 0;
  stored = new Map<string, string>();
  hidden(): boolean {
    return this.isHidden;
  }
  permission(): NotificationPermission {
    return this.granted;
  }
  requestPermission(): Promise<NotificationPermission> {
    this.asked++;
    this.granted = this.answer;
    return Promise.resolve(this.answer);
  }
  show(title: string, body: string, _tag: string, onClick: () => void): void {
    this.shown.push({ title, body, onClick });
  }
  beep(): void {
    this.beeps++;
  }
  load(key: string): string | null {
    return this.stored.get(key) ?? null;
  }
  save(key: string, value: string): void {
    this.stored.set(key, value);
  }
  newest: { author: string; body: string } | null = { author: "bob", body: "lunch at one?" };
  latest(): Promise<{ author: string; body: string } | null> {
    return Promise.resolve(this.newest);
  }
}

const mention = { room: "ops", author: "bob", body: "@ann look", mention: true };

describe("Notifier", () => {
  it("is off until turned on, asks for permission only then, and shows only while hidden", async () => {
    const browser = new FakeBrowser();
    const notifier = new Notifier(browser, "k");
    notifier.notify(mention);
    expect(browser.shown).toHaveLength(0);
    expect(browser.asked).toBe(0);
    await notifier.enable();
    expect(browser.asked).toBe(1);
    notifier.notify(mention);
    expect(browser.shown.map((n) => n.title)).toEqual(["You were mentioned in #ops"]);
    browser.isHidden = false;
    notifier.notify(mention);
    expect(browser.shown).toHaveLength(1);
    expect(browser.beeps).toBe(0); // sound is off by default
  });

  it("stays quiet for muted rooms, opens the room on a click, and remembers the choices", async () => {
    const browser = new FakeBrowser();
    const notifier = new Notifier(browser, "k");
    const opened: string[] = [];
    notifier.connect((room) => `#${room}`, (room) => opened.push(room));
    await notifier.enable();
    notifier.toggleMute("ops");
    notifier.notify(mention);
    expect(browser.shown).toHaveLength(0);
    notifier.toggleMute("ops");
    notifier.toggleSound();
    notifier.notify({ room: "dm-1", author: null, body: null, mention: false });
    expect(browser.shown[0]?.title).toBe("New message from #dm-1");
    expect(browser.beeps).toBe(1);
    browser.shown[0]?.onClick();
    expect(opened).toEqual(["dm-1"]);
    const again = new Notifier(browser, "k");
    expect(again.getSnapshot()).toMatchObject({ enabled: true, sound: true, muted: [] });
  });

  it("says so when the browser refuses", async () => {
    const browser = new FakeBrowser();
    browser.answer = "denied";
    const notifier = new Notifier(browser, "k");
    await notifier.enable();
    expect(notifier.getSnapshot()).toMatchObject({ enabled: false });
    expect(notifier.getSnapshot().problem).toContain("blocked");
  });

  it("shows what was written only when previews are on, fetching it when only a count came", async () => {
    const browser = new FakeBrowser();
    const notifier = new Notifier(browser, "k");
    notifier.connect((room) => (room === "dm-1" ? "bob" : `#${room}`), () => undefined);
    await notifier.enable();
    notifier.notify(mention);
    notifier.notify({ room: "dm-1", author: null, body: null, mention: false });
    expect(browser.shown.map((n) => n.body)).toEqual(["Open Hubbub to read it.", "Open Hubbub to read it."]);
    notifier.togglePreview();
    notifier.notify(mention);
    notifier.notify({ room: "dm-1", author: null, body: null, mention: false });
    await Promise.resolve();
    expect(browser.shown.slice(2).map((n) => [n.title, n.body])).toEqual([
      ["You were mentioned in #ops", "bob: @ann look"],
      ["New message from bob", "bob: lunch at one?"],
    ]);
    expect(new Notifier(browser, "k").getSnapshot().preview).toBe(true);
  });
});

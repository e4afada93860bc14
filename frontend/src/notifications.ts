import type { Alert } from "./rooms/Directory";

/**
 * Desktop notifications: opt-in (the browser's permission is asked only when the user turns
 * them on), for mentions and direct messages, only while the tab is hidden, never for a muted
 * room. A click focuses the tab and opens the room. Sound is off unless turned on; so are
 * previews of what was written (a notification can be seen by anyone near the screen): with
 * them off it says only where something new is. The choices are kept in the browser's
 * storage, per user.
 *
 * Everything outside comes through `NotifierEnvironment`, so the tests drive it with fakes.
 */

export interface NotifierEnvironment {
  hidden(): boolean;
  permission(): NotificationPermission | "unsupported";
  requestPermission(): Promise<NotificationPermission>;
  show(title: string, body: string, tag: string, onClick: () => void): void;
  beep(): void;
  load(key: string): string | null;
  save(key: string, value: string): void;
  /** The room's newest message, for a preview of one that came as a count only. */
  latest(room: string): Promise<{ author: string; body: string } | null>;
}

export interface NotifierSettings {
  enabled: boolean;
  sound: boolean;
  /** Show who wrote what, not only where. */
  preview: boolean;
  muted: string[];
  /** Why they cannot be on ("blocked in the browser's settings"), if so. */
  problem: string | null;
}

const PREVIEW_CHARS = 200;

export class Notifier {
  private settings: NotifierSettings;
  private readonly listeners = new Set<() => void>();
  private describe: (room: string) => string = (room) => `#${room}`;
  private open: (room: string) => void = () => undefined;

  constructor(
    private readonly env: NotifierEnvironment,
    private readonly key: string,
  ) {
    const saved = env.load(key);
    let parsed: Partial<NotifierSettings> = {};
    try {
      parsed = saved ? (JSON.parse(saved) as Partial<NotifierSettings>) : {};
    } catch {
      parsed = {};
    }
    this.settings = {
      enabled: parsed.enabled === true && env.permission() === "granted",
      sound: parsed.sound === true,
      preview: parsed.preview === true,
      muted: Array.isArray(parsed.muted) ? parsed.muted.filter((r) => typeof r === "string") : [],
      problem: null,
    };
  }

  /** How the chat names a room, and what it does when a notification is clicked. */
  connect(describe: (room: string) => string, open: (room: string) => void): void {
    this.describe = describe;
    this.open = open;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): NotifierSettings => this.settings;

  private change(patch: Partial<NotifierSettings>): void {
    this.settings = { ...this.settings, ...patch };
    const { enabled, sound, preview, muted } = this.settings;
    this.env.save(this.key, JSON.stringify({ enabled, sound, preview, muted }));
    for (const listener of this.listeners) listener();
  }

  async enable(): Promise<void> {
    const current = this.env.permission();
    if (current === "unsupported") {
      this.change({ problem: "This browser cannot show notifications." });
      return;
    }
    const answer = current === "granted" ? current : await this.env.requestPermission();
    if (answer === "granted") this.change({ enabled: true, problem: null });
    else this.change({ enabled: false, problem: "Notifications are blocked in the browser's settings for this site." });
  }

  disable(): void {
    this.change({ enabled: false, problem: null });
  }

  toggleSound(): void {
    this.change({ sound: !this.settings.sound });
  }

  togglePreview(): void {
    this.change({ preview: !this.settings.preview });
  }

  toggleMute(room: string): void {
    const muted = this.settings.muted.includes(room)
      ? this.settings.muted.filter((r) => r !== room)
      : [...this.settings.muted, room];
    this.change({ muted });
  }

  notify(alert: Alert): void {
    if (!this.settings.enabled || !this.env.hidden() || this.settings.muted.includes(alert.room)) return;
    if (this.env.permission() !== "granted") return;
    if (!this.settings.preview) {
      this.show(alert, null);
    } else if (alert.author !== null && alert.body !== null) {
      this.show(alert, { author: alert.author, body: alert.body });
    } else {
      // Counted elsewhere, so no text came with it: the newest message is what is new.
      void this.env.latest(alert.room).then(
        (message) => {
          this.show(alert, message);
        },
        () => {
          this.show(alert, null);
        },
      );
    }
  }

  private show(alert: Alert, message: { author: string; body: string } | null): void {
    const where = this.describe(alert.room);
    const title = alert.mention ? `You were mentioned in ${where}` : `New message from ${where}`;
    const body = message ? `${message.author}: ${message.body.slice(0, PREVIEW_CHARS)}` : "Open Hubbub to read it.";
    this.env.show(title, body, `hubbub-${alert.room}`, () => {
      this.open(alert.room);
    });
    if (this.settings.sound) this.env.beep();
  }
}

/** The real browser's notifications, storage and a short tone. */
export function browserNotifierEnvironment(latest: NotifierEnvironment["latest"]): NotifierEnvironment {
  const supported = typeof window !== "undefined" && "Notification" in window;
  return {
    hidden: () => document.visibilityState === "hidden",
    permission: () => (supported ? Notification.permission : "unsupported"),
    requestPermission: () => Notification.requestPermission(),
    show: (title, body, tag, onClick) => {
      const notification = new Notification(title, { body, tag });
      notification.onclick = () => {
        window.focus();
        onClick();
        notification.close();
      };
    },
    beep: () => {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      gain.gain.value = 0.05;
      tone.connect(gain).connect(audio.destination);
      tone.frequency.value = 880;
      tone.start();
      tone.stop(audio.currentTime + 0.12);
    },
    load: (key) => window.localStorage.getItem(key),
    save: (key, value) => {
      window.localStorage.setItem(key, value);
    },
    latest,
  };
}

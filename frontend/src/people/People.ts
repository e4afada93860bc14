// Who people are, as the UI shows them: profiles by login name, fetched in batches as names
// appear on screen (GET /api/profiles), kept current by the server's `profile` frames.
import type { components } from "../contract/schema.gen";

export type Profile = components["schemas"]["ProfileReply"];
export type ProfileFrame = components["schemas"]["ProfileEvent"];

export interface PeopleEnvironment {
  fetchProfiles(names: string[]): Promise<Profile[]>;
  setTimeout(callback: () => void, ms: number): unknown;
}

const BATCH_MS = 20; // names asked for within this long go in one request
const BATCH_MAX = 100; // the most one request asks for

export class PeopleDirectory {
  private readonly known = new Map<string, Profile>();
  private readonly asked = new Set<string>();
  private wanted = new Set<string>();
  private scheduled = false;
  private readonly listeners = new Set<() => void>();
  private version = 0;

  constructor(private readonly env: PeopleEnvironment) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Moves whenever anyone's profile is learned or changes. */
  getVersion = (): number => this.version;

  get(name: string): Profile | undefined {
    return this.known.get(name);
  }

  /** Fetch these people's profiles if not known or asked for already. */
  want(names: Iterable<string>): void {
    for (const name of names) if (name && !this.known.has(name) && !this.asked.has(name)) this.wanted.add(name);
    if (this.wanted.size === 0 || this.scheduled) return;
    this.scheduled = true;
    this.env.setTimeout(() => {
      this.scheduled = false;
      void this.fetch();
    }, BATCH_MS);
  }

  /** A profile changed (a `profile` frame), or was fetched. */
  apply(profile: Profile | ProfileFrame): void {
    const { user, display_name, status_emoji, status_text, time_zone, avatar_url, deactivated, bot } = profile;
    this.known.set(user, { user, display_name, status_emoji, status_text, time_zone, avatar_url, deactivated, bot });
    this.changed();
  }

  private async fetch(): Promise<void> {
    const names = [...this.wanted].slice(0, BATCH_MAX);
    for (const name of names) {
      this.wanted.delete(name);
      this.asked.add(name);
    }
    try {
      for (const profile of await this.env.fetchProfiles(names)) this.apply(profile);
    } catch {
      for (const name of names) this.asked.delete(name); // asked again when next wanted
    }
    if (this.wanted.size > 0) this.want([]);
  }

  private changed(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }
}

/** The name to show: the display name, else the login name. */
export function shownName(name: string, profile: Profile | undefined): string {
  return profile?.display_name || name;
}

/** Up to two letters for an avatar, from the shown name's first words. */
export function initials(shown: string): string {
  const words = shown.split(/[\s._-]+/).filter(Boolean);
  const letters = words.slice(0, 2).map((word) => Array.from(word)[0] ?? "");
  return letters.join("").toUpperCase() || "?";
}

// Dark enough for white letters at WCAG AA (4.5:1 and more) in either theme.
const AVATAR_COLOURS = ["#8b3a62", "#2e6b30", "#1d5a8a", "#7a4b00", "#5b3f99", "#8a2f2f", "#0f6b6b", "#6b5a00"];

/** The avatar's colour: the login name's (so a new display name keeps it), FNV-1a hashed. */
export function avatarColour(name: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return AVATAR_COLOURS[hash % AVATAR_COLOURS.length] ?? "#1d5a8a";
}

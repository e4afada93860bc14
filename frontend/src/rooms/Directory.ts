import type { components } from "../contract/schema.gen";
import type { ChatMessage, ServerFrame } from "../socket/protocol";

/**
 * Every room the user can see, by name: what the sidebar, the switcher and Browse rooms show,
 * and the unread and mention counts behind the badges. It starts from the server's list
 * (GET /api/rooms), counts what arrives on top of it, each message once, and follows read
 * positions from every tab.
 *
 * Its `rooms` record is immutable: every change makes a new one, and `onChange` says so.
 */

export type RoomSummary = components["schemas"]["RoomSummary"];
type Frame<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;

/** What the sidebar and header know of a room the user can see. */
export interface RoomMeta {
  name: string;
  visibility: "public" | "private" | "dm";
  topic: string;
  owner: string | null;
  archived: boolean;
  /** The user is a member: the room is theirs (not one to browse). */
  member: boolean;
  /** How many members it has (0 when not known). */
  memberCount: number;
  /** A direct message's members. */
  members: string[];
  /** The user's read position (null: not known here yet, as for a room heard of by a frame;
   * the next list says), and what is new after it (not their own messages). */
  lastRead: number | null;
  unread: number;
  mentions: number;
  /** The newest seq already counted into unread: nothing is counted twice. */
  countedUpTo: number;
}

/** Something deserves the user's attention (a mention, a direct message). */
export interface Alert {
  room: string;
  /** Who wrote, when known (a message of a joined room). */
  author: string | null;
  body: string | null;
  mention: boolean;
}

export function metaOf(room: RoomSummary): RoomMeta {
  return {
    name: room.name,
    visibility: room.visibility,
    topic: room.topic,
    owner: room.owner,
    archived: room.archived,
    member: room.member,
    memberCount: room.member_count,
    members: room.members,
    lastRead: room.last_read,
    unread: room.unread,
    mentions: room.mentions,
    countedUpTo: room.head,
  };
}

/** A room with nothing counted yet (made or heard of just now). */
export function newMeta(name: string, visibility: RoomMeta["visibility"], extra: Partial<RoomMeta> = {}): RoomMeta {
  return {
    name,
    visibility,
    topic: "",
    owner: null,
    archived: false,
    member: false,
    memberCount: 0,
    members: [],
    lastRead: null,
    unread: 0,
    mentions: 0,
    countedUpTo: 0,
    ...extra,
  };
}

/** What the title and a DM-aware badge count: mentions, and every unread direct message. */
export function attentionCount(directory: Record<string, RoomMeta>): number {
  let total = 0;
  for (const room of Object.values(directory)) total += room.visibility === "dm" ? room.unread : room.mentions;
  return total;
}

export function mentionsUser(mentions: readonly string[], user: string | null): boolean {
  return mentions.includes("@room") || (user !== null && mentions.includes(user));
}

export class Directory {
  private current: Record<string, RoomMeta> = {};
  private listed = false;

  constructor(private readonly onChange: () => void) {}

  get rooms(): Record<string, RoomMeta> {
    return this.current;
  }

  /** The server's list has arrived at least once. */
  get loaded(): boolean {
    return this.listed;
  }

  get(room: string): RoomMeta | undefined {
    return this.current[room];
  }

  private set(rooms: Record<string, RoomMeta>): void {
    this.current = rooms;
    this.onChange();
  }

  patch(room: string, change: (meta: RoomMeta) => Partial<RoomMeta>): void {
    const meta = this.current[room];
    if (meta) this.set({ ...this.current, [room]: { ...meta, ...change(meta) } });
  }

  /** The rooms the server listed, replacing what was known. */
  replace(rooms: RoomMeta[]): void {
    this.listed = true;
    this.set(Object.fromEntries(rooms.map((room) => [room.name, room])));
  }

  /** A room the user made or opened, or heard of: known at once; its counts kept if known. */
  add(room: RoomMeta): void {
    const known = this.current[room.name];
    const merged = known
      ? {
          ...known,
          topic: room.topic,
          owner: room.owner,
          archived: room.archived,
          members: room.members,
          member: known.member || room.member,
          // A member from now on: where they are in it is the server's to say (the next list).
          lastRead: !known.member && room.member ? null : known.lastRead,
          memberCount: room.memberCount || known.memberCount,
        }
      : room;
    this.set({ ...this.current, [room.name]: merged });
  }

  remove(room: string): void {
    if (!(room in this.current)) return;
    this.set(Object.fromEntries(Object.entries(this.current).filter(([name]) => name !== room)));
  }

  /** The user is no longer a member: a public room stays, to browse and rejoin; others go. */
  leave(room: string): void {
    const meta = this.current[room];
    if (meta?.visibility === "public") {
      this.patch(room, (m) => ({
        member: false,
        memberCount: Math.max(0, m.memberCount - 1),
        unread: 0,
        mentions: 0,
      }));
    } else {
      this.remove(room);
    }
  }

  /** The server answered a join: the user is a member now (joining a public room makes one,
   * with everything up to `head` read). */
  joined(room: string, head: number): void {
    const meta = this.current[room];
    if (meta && !meta.member) {
      this.patch(room, (m) => ({
        member: true,
        memberCount: m.memberCount + 1,
        lastRead: head,
        countedUpTo: Math.max(m.countedUpTo, head),
      }));
    }
  }

  onRoomUpdated(frame: Frame<"room_updated">): void {
    this.patch(frame.room, () => ({ topic: frame.topic, archived: frame.archived, owner: frame.owner }));
  }

  /** A message of a joined room arrived: count it once, if it is new to the user. Returns
   * what deserves a notification, if anything. */
  count(message: ChatMessage, me: string | null, live: boolean): Alert | null {
    const meta = this.current[message.room];
    if (!meta || message.seq <= meta.countedUpTo) return null;
    const fresh = message.author !== me && message.seq > (meta.lastRead ?? 0);
    const mention = fresh && mentionsUser(message.mentions, me);
    this.patch(message.room, (m) => ({
      countedUpTo: message.seq,
      unread: m.unread + (fresh ? 1 : 0),
      mentions: m.mentions + (mention ? 1 : 0),
    }));
    if (live && fresh && (mention || meta.visibility === "dm")) {
      return { room: message.room, author: message.author, body: message.body, mention };
    }
    return null;
  }

  /** Counts of new messages in a room not joined here (no bodies). */
  onUnread(frame: Frame<"unread">): Alert | null {
    const meta = this.current[frame.room];
    if (!meta || frame.seq <= meta.countedUpTo) return null;
    this.patch(frame.room, (m) => ({
      countedUpTo: frame.seq,
      unread: m.unread + frame.count,
      mentions: m.mentions + frame.mentions,
    }));
    if (frame.mentions > 0 || meta.visibility === "dm") {
      return { room: frame.room, author: null, body: null, mention: frame.mentions > 0 };
    }
    return null;
  }

  /** The user has read the room up to seq (here or in another tab). `loaded` is what this tab
   * holds of it, to recount from; false when it cannot, and the list must be fetched again. */
  read(room: string, seq: number, loaded: readonly ChatMessage[], me: string | null): boolean {
    const meta = this.current[room];
    if (!meta || seq <= (meta.lastRead ?? 0)) return true;
    if (seq >= meta.countedUpTo) {
      this.patch(room, () => ({ lastRead: seq, unread: 0, mentions: 0 }));
      return true;
    }
    // Read part of what was counted: recount from the messages here if they cover it.
    const first = loaded[0]?.seq;
    if (first !== undefined && first <= seq + 1) {
      const after = loaded.filter((m) => m.seq > seq && m.seq <= meta.countedUpTo && m.author !== me);
      this.patch(room, () => ({
        lastRead: seq,
        unread: after.length,
        mentions: after.filter((m) => mentionsUser(m.mentions, me)).length,
      }));
      return true;
    }
    this.patch(room, () => ({ lastRead: seq }));
    return false;
  }
}

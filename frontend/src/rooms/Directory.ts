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

/** What changes the list while a list is being fetched: kept, to apply again on top of it. */
type Heard =
  | { kind: "unread"; frame: Frame<"unread"> }
  | { kind: "added"; room: RoomMeta }
  | { kind: "removed"; room: string }
  | { kind: "left"; room: string }
  | { kind: "updated"; frame: Frame<"room_updated"> };

export class Directory {
  private current: Record<string, RoomMeta> = {};
  private listed = false;
  /** What was heard since the oldest list still being fetched began (`heardBase` is the
   * position of its first entry), and where in it each list being fetched began. A list read
   * by the server before a frame went out, and answered after it arrived, would otherwise
   * undo it: a room made meanwhile gone, the counts of its first messages lost, a room taken
   * out of the archive still archived. */
  private heard: Heard[] = [];
  private heardBase = 0;
  private readonly listings = new Map<number, number>(); // mark -> where it began in `heard`
  private nextMark = 0;

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

  /** A list is about to be fetched: returns its mark, for `replace` (or `abandon`). */
  listing(): number {
    const mark = this.nextMark++;
    this.listings.set(mark, this.heardBase + this.heard.length);
    return mark;
  }

  /** The fetch with this mark failed: nothing of what it kept is needed for it any more. */
  abandon(mark: number): void {
    this.listings.delete(mark);
    this.trimHeard();
  }

  /** The rooms the server listed, replacing what was known. With the mark of its `listing`,
   * what was heard since it began is applied again on top (each of those frames is idempotent
   * against a list that already has it: counts go by seq past the listed head). False when
   * one of those frames is about a room the list left out that only a new list can bring
   * back (onRoomUpdated). */
  replace(rooms: RoomMeta[], mark?: number): boolean {
    this.listed = true;
    const began = mark === undefined ? undefined : this.listings.get(mark);
    const since = began === undefined ? [] : this.heard.slice(began - this.heardBase);
    if (mark !== undefined) this.listings.delete(mark);
    this.trimHeard();
    this.set(Object.fromEntries(rooms.map((room) => [room.name, room])));
    let complete = true;
    for (const item of since) {
      if (item.kind === "unread") this.countUnread(item.frame);
      else if (item.kind === "added") this.merge(item.room);
      else if (item.kind === "removed") this.drop(item.room);
      else if (item.kind === "left") this.quit(item.room);
      else complete = this.update(item.frame) && complete;
    }
    return complete;
  }

  private hear(item: Heard): void {
    if (this.listings.size > 0) this.heard.push(item);
  }

  private trimHeard(): void {
    const oldest = this.listings.size > 0 ? Math.min(...this.listings.values()) : this.heardBase + this.heard.length;
    this.heard = this.heard.slice(oldest - this.heardBase);
    this.heardBase = oldest;
  }

  /** A room the user made or opened, or heard of: known at once; its counts kept if known. */
  add(room: RoomMeta): void {
    this.hear({ kind: "added", room });
    this.merge(room);
  }

  private merge(room: RoomMeta): void {
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
    this.hear({ kind: "removed", room });
    this.drop(room);
  }

  private drop(room: string): void {
    if (!(room in this.current)) return;
    this.set(Object.fromEntries(Object.entries(this.current).filter(([name]) => name !== room)));
  }

  /** The user is no longer a member: a public room stays, to browse and rejoin; others go. */
  leave(room: string): void {
    this.hear({ kind: "left", room });
    this.quit(room);
  }

  private quit(room: string): void {
    const meta = this.current[room];
    if (meta?.visibility === "public") {
      if (!meta.member) return; // a list that already says so
      this.patch(room, (m) => ({
        member: false,
        memberCount: Math.max(0, m.memberCount - 1),
        unread: 0,
        mentions: 0,
      }));
    } else {
      this.drop(room);
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

  /** False when the room came out of the archive but is not known here: the list leaves
   * archived rooms out, so one fetched while it was archived no longer has it, and only the
   * server can say what it is to the user now (fetch the list again). */
  onRoomUpdated(frame: Frame<"room_updated">): boolean {
    this.hear({ kind: "updated", frame });
    return this.update(frame);
  }

  private update(frame: Frame<"room_updated">): boolean {
    if (!(frame.room in this.current)) return frame.archived;
    this.patch(frame.room, () => ({ topic: frame.topic, archived: frame.archived, owner: frame.owner }));
    return true;
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
    this.hear({ kind: "unread", frame });
    const meta = this.current[frame.room];
    if (!this.countUnread(frame) || !meta) return null;
    if (frame.mentions > 0 || meta.visibility === "dm") {
      return { room: frame.room, author: null, body: null, mention: frame.mentions > 0 };
    }
    return null;
  }

  private countUnread(frame: Frame<"unread">): boolean {
    const meta = this.current[frame.room];
    if (!meta || frame.seq <= meta.countedUpTo) return false;
    this.patch(frame.room, (m) => ({
      countedUpTo: frame.seq,
      unread: m.unread + frame.count,
      mentions: m.mentions + frame.mentions,
    }));
    return true;
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

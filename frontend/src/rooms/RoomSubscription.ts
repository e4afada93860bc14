import type { components } from "../contract/schema.gen";
import type { ChatMessage, ClientFrame, ServerFrame } from "../socket/protocol";

/**
 * One room as this tab follows it: its messages (sorted, each once), the resume cursors
 * (messages and changes), who is online and typing, the read position when it was opened, and
 * the user's unsent draft. Like centrifuge-js's Subscription, it knows nothing of the socket:
 * the client hands it the room's frames and sends the frames it makes.
 *
 * Its `view` is immutable: every change makes a new one, and `onChange` says so.
 */

type Frame<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;

export interface Notice {
  key: string;
  ts: number;
  text: string;
  /** For presence notices: whose, and which way. */
  user?: string;
  joined?: boolean;
}

export interface RoomView {
  name: string;
  /** Sorted by seq, each once. */
  messages: ChatMessage[];
  notices: Notice[];
  /** Who is online in the room, by name: empty when too many are to list them (see `online`). */
  users: string[];
  /** How many are online in the room. */
  online: number;
  /** user -> time (ms) until which the typing indicator shows */
  typing: Record<string, number>;
  /** Highest seq received: the resume cursor. */
  cursor: number | null;
  /** Highest change number applied (edits, deletes, reactions): the change cursor. */
  changes: number | null;
  joined: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  /** The messages shown are a window of older history (opened at a search hit), and newer
   * ones follow them: paged in as the reader goes down, until the window meets the live end. */
  hasNewer: boolean;
  loadingNewer: boolean;
  /** The newest seq when the room was last joined: history has caught up once `cursor` reaches it. */
  head: number;
  /** Bumped when the room's members change: a member list re-reads them. */
  membersVersion: number;
  /** The read position when the user opened the room: "new messages" start after it. Null
   * until it is known (the room list has not arrived yet). */
  readMark: number | null;
  /** The newest message there was when the room was opened (or the connection came back):
   * what came later, while the user was looking, is not "new" to them. */
  unreadUpTo: number;
  /** Something is typed and not sent. The text itself is `RoomSubscription.draft`: typing
   * changes it on every key, and the chat need not render again for that. */
  hasDraft: boolean;
}

// A user who leaves and is back within this long was reconnecting: no notice either way.
export const PRESENCE_FLAP_MS = 60_000;

export function emptyRoom(name: string): RoomView {
  return {
    name,
    messages: [],
    notices: [],
    users: [],
    online: 0,
    typing: {},
    cursor: null,
    changes: null,
    joined: false,
    hasOlder: false,
    loadingOlder: false,
    hasNewer: false,
    loadingNewer: false,
    head: 0,
    membersVersion: 0,
    readMark: null,
    unreadUpTo: 0,
    hasDraft: false,
  };
}

/** Merge messages into a sorted, duplicate-free list (by seq); of two copies of one message,
 * the one with the later change (edit, delete, reaction) wins. */
export function mergeMessages(existing: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return existing;
  const last = existing[existing.length - 1];
  const only = incoming.length === 1 ? incoming[0] : undefined;
  // The common case: one new message after everything we have.
  if (only !== undefined && (last === undefined || only.seq > last.seq)) {
    return [...existing, only];
  }
  const bySeq = new Map<number, ChatMessage>();
  for (const message of existing) bySeq.set(message.seq, message);
  let added = false;
  for (const message of incoming) {
    const known = bySeq.get(message.seq);
    if (known === undefined || message.change > known.change) {
      bySeq.set(message.seq, message);
      added = true;
    }
  }
  if (!added) return existing;
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Who is online after a presence frame: its comings and goings applied to the list so far
 * (the join reply's, then each frame's), sorted; a name already there or already gone is a no-op. */
export function applyPresence(users: readonly string[], joined: readonly string[], left: readonly string[]): string[] {
  const online = new Set(users);
  for (const user of joined) online.add(user);
  for (const user of left) online.delete(user);
  return [...online].sort();
}

/** Presence changes, said sparingly: never the user's own, never news of someone already
 * online (or already gone) by the list so far (`online`, before the frame), and someone who
 * left and is back within PRESENCE_FLAP_MS was only reconnecting (the "left" goes, no
 * "joined" comes). */
export function presenceNotices(
  notices: Notice[],
  joined: string[],
  left: string[],
  me: string | null,
  now: number,
  online: readonly string[] = [],
): Notice[] {
  const before = new Set(online);
  let result = notices;
  for (const user of joined) {
    if (user === me || before.has(user)) continue;
    const flap = result.findLast((n) => n.user === user && n.joined === false && now - n.ts < PRESENCE_FLAP_MS);
    if (flap) result = result.filter((n) => n !== flap);
    else result = [...result, { key: `${now}-${user}-joined`, ts: now, text: `${user} joined`, user, joined: true }];
  }
  for (const user of left) {
    if (user === me || (online.length > 0 && !before.has(user))) continue;
    result = [...result, { key: `${now}-${user}-left`, ts: now, text: `${user} left`, user, joined: false }];
  }
  return result;
}

/** A page of history (GET /api/rooms/{room}/messages), as the server's contract has it. */
export type HistoryPage = components["schemas"]["HistoryPage"];

/** How to fetch a window of history: around a message, or after one. */
export type FetchWindow = (from: { around: number } | { after: number }, limit: number) => Promise<HistoryPage>;

export class RoomSubscription {
  private current: RoomView;
  private text = "";
  /** While the view shows a window of older history: the live end, put aside (the messages
   * from the join on, contiguous up to the cursor, and whether older ones exist below them).
   * Live messages and changes keep going to it; the window joins it once they meet. */
  private tail: { messages: ChatMessage[]; hasOlder: boolean } | null = null;

  constructor(
    readonly name: string,
    private readonly onChange: () => void,
  ) {
    this.current = emptyRoom(name);
  }

  get view(): RoomView {
    return this.current;
  }

  private patch(change: Partial<RoomView>): void {
    this.current = { ...this.current, ...change };
    this.onChange();
  }

  // --- joining
  /** The join that resumes where this tab left off: after the last message and change seen. */
  joinFrame(): ClientFrame {
    const { cursor, changes } = this.current;
    if (cursor === null) return { type: "join", room: this.name };
    if (changes === null) return { type: "join", room: this.name, after: cursor };
    return { type: "join", room: this.name, after: cursor, changes_after: changes };
  }

  onJoined(frame: Frame<"joined">): void {
    const room = this.current;
    if (this.tail) {
      const tail = this.tail;
      this.tail = { ...tail, hasOlder: tail.messages.length === 0 ? frame.from > 0 : tail.hasOlder };
    }
    this.patch({
      joined: true,
      head: frame.head,
      users: frame.users,
      online: frame.online,
      // First visit: older history exists below what the server sends now.
      hasOlder: this.tail ? room.hasOlder : room.messages.length === 0 ? frame.from > 0 : room.hasOlder,
      cursor: room.cursor ?? frame.from,
      changes: room.changes ?? frame.changes,
    });
  }

  /** The connection went: nothing more comes until the next join. */
  connectionLost(): void {
    if (this.current.joined) this.patch({ joined: false });
  }

  // --- messages and changes
  onMessage(frame: ChatMessage): void {
    const room = this.current;
    if (this.tail) this.tail = { ...this.tail, messages: mergeMessages(this.tail.messages, [frame]) };
    this.patch({
      messages: this.tail ? room.messages : mergeMessages(room.messages, [frame]),
      cursor: Math.max(room.cursor ?? 0, frame.seq),
      // Whoever wrote has stopped typing.
      typing: Object.fromEntries(Object.entries(room.typing).filter(([user]) => user !== frame.author)),
    });    this.joinTail();
  }

  /** A change to message `seq`: applied unless the copy here is already as new; the room's
   * change cursor moves past it either way. */
  applyChange(seq: number, change: number, patch: Partial<ChatMessage>): void {
    const view = this.current;
    const at = view.messages.findIndex((m) => m.seq === seq);
    const known = at >= 0 ? view.messages[at] : undefined;
    const messages =
      known && change >= known.change
        ? view.messages.map((m, i) => (i === at ? { ...m, ...patch, change } : m))
        : view.messages;
    if (this.tail) {
      const tail = this.tail.messages;
      const inTail = tail.findIndex((m) => m.seq === seq);
      const old = inTail >= 0 ? tail[inTail] : undefined;
      if (old && change >= old.change) {
        this.tail = { ...this.tail, messages: tail.map((m, i) => (i === inTail ? { ...m, ...patch, change } : m)) };
      }
    }
    this.patch({ messages, changes: Math.max(view.changes ?? 0, change) });
    this.joinTail();
  }

  // --- a window of older history (a search hit's surroundings)
  /** Whether message `seq` is loaded: on screen, or in the live end put aside. */
  has(seq: number): boolean {
    return [this.current.messages, this.tail?.messages ?? []].some((list) => list.some((m) => m.seq === seq));
  }

  /** Show message `seq` with what surrounds it: the live end if it is there, or else a window
   * fetched around it (the live end put aside until the reader pages down to it). */
  async showAround(seq: number, fetch: FetchWindow, limit: number): Promise<void> {
    if (this.tail?.messages.some((m) => m.seq === seq)) this.backToLatest();
    if (this.has(seq)) return;
    const page = await fetch({ around: seq }, limit);
    const view = this.current;
    this.tail ??= { messages: view.messages, hasOlder: view.hasOlder };
    this.patch({ messages: page.messages, hasOlder: page.has_more, hasNewer: page.has_newer, loadingOlder: false, loadingNewer: false });
    this.joinTail();
  }

  /** Page newer history in below a window (REST), once at a time. */
  async loadNewer(fetch: FetchWindow, limit: number): Promise<void> {
    const view = this.current;
    const newest = view.messages[view.messages.length - 1]?.seq;
    if (view.loadingNewer || !view.hasNewer || newest === undefined) return;
    this.patch({ loadingNewer: true });
    try {
      const page = await fetch({ after: newest }, limit);
      this.patch({ messages: mergeMessages(this.current.messages, page.messages), hasNewer: page.has_newer, loadingNewer: false });
      this.joinTail();
    } catch {
      this.patch({ loadingNewer: false });
    }
  }

  /** Leave the window: the live end again. */
  backToLatest(): void {
    const tail = this.tail;
    if (!tail) return;
    this.tail = null;
    this.patch({ messages: tail.messages, hasOlder: tail.hasOlder, hasNewer: false, loadingNewer: false, loadingOlder: false });
  }

  /** The window reached the live end (it has no newer messages, or its newest touches the
   * live end's oldest): one list again. */
  private joinTail(): void {
    const tail = this.tail;
    if (!tail) return;
    const view = this.current;
    const newest = view.messages[view.messages.length - 1]?.seq ?? 0;
    const oldestLive = tail.messages[0]?.seq;
    if (view.hasNewer && (oldestLive === undefined || newest + 1 < oldestLive)) return;
    this.tail = null;
    this.patch({ messages: mergeMessages(view.messages, tail.messages), hasNewer: false, loadingNewer: false });
  }

  /** Page older history in from the server (REST), once at a time. */
  async loadOlder(fetch: (before: number, limit: number) => Promise<HistoryPage>, limit: number): Promise<void> {
    const view = this.current;
    if (view.loadingOlder || !view.hasOlder) return;
    const oldest = view.messages[0]?.seq;
    if (oldest === undefined) return;
    this.patch({ loadingOlder: true });
    try {
      const page = await fetch(oldest, limit);
      this.patch({
        messages: mergeMessages(this.current.messages, page.messages),
        hasOlder: page.has_more,
        loadingOlder: false,
      });
    } catch {
      this.patch({ loadingOlder: false });
    }
  }

  // --- people
  onPresence(frame: Frame<"presence">, me: string | null, now: number): void {
    const room = this.current;
    this.patch({
      // A room crossing the server's list limit sends the whole list again (or none).
      users: frame.users ?? applyPresence(room.users, frame.joined, frame.left),
      online: frame.online,
      notices: presenceNotices(room.notices, frame.joined, frame.left, me, now, room.users),
    });
  }

  onTyping(user: string, until: number): void {
    this.patch({ typing: { ...this.current.typing, [user]: until } });
  }

  /** Typing indicators that ran out go; true while some are left. */
  pruneTyping(now: number): boolean {
    const typing = Object.fromEntries(Object.entries(this.current.typing).filter(([, until]) => until > now));
    const left = Object.keys(typing).length;
    if (left !== Object.keys(this.current.typing).length) this.patch({ typing });
    return left > 0;
  }

  membersChanged(): void {
    this.patch({ membersVersion: this.current.membersVersion + 1 });
  }

  // --- the reader
  /** Where "new messages" start, as of opening the room (null: not known yet), and the
   * newest message then. */
  setReadMark(seq: number | null, upTo: number): void {
    if (seq !== this.current.readMark || upTo !== this.current.unreadUpTo) this.patch({ readMark: seq, unreadUpTo: upTo });
  }

  /** Messages up to `seq` came while the user was away (a reconnection's catch-up): new too. */
  extendUnread(seq: number): void {
    if (seq > this.current.unreadUpTo) this.patch({ unreadUpTo: seq });
  }

  // --- the draft
  get draft(): string {
    return this.text;
  }

  /** What is typed and not sent; the view changes only when there comes to be one, or none. */
  setDraft(text: string): void {
    this.text = text;
    const has = text.trim() !== "";
    if (has !== this.current.hasDraft) this.patch({ hasDraft: has });
  }
}

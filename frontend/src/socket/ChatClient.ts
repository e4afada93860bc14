import { fullJitterDelay } from "./backoff";
import {
  describeClose,
  TERMINAL_CLOSE_CODES,
  type ChatMessage,
  type ClientFrame,
  type ServerFrame,
} from "./protocol";

/**
 * The chat connection and the state it feeds: reconnects with backoff and full jitter, resumes
 * every open room from the last sequence number seen, drops duplicates, and keeps an outbox of
 * messages that are sent (again, with the same client_msg_id) until the server acknowledges them.
 *
 * Everything it touches outside itself comes through `ChatEnvironment`, so the tests drive it
 * with a fake socket and a fake clock.
 */

export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "offline" | "closed";

export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface HistoryPage {
  messages: ChatMessage[];
  has_more: boolean;
}

export interface ChatEnvironment {
  createSocket(url: string): WebSocketLike;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
  random(): number;
  newId(): string;
  fetchHistory(room: string, before: number, limit: number): Promise<HistoryPage>;
  /** The rooms the user can see, with their read positions and counts (GET /api/rooms). */
  fetchRooms(): Promise<RoomSummary[]>;
  /** Something deserves the user's attention (a mention, a direct message): the browser's
   * side decides whether to show a notification (enabled, tab hidden, room not muted). */
  notify(alert: Alert): void;
  /** Where unsent messages wait across reloads (browser storage); null keeps them in memory. */
  loadOutbox(): string | null;
  saveOutbox(value: string): void;
}

export interface RoomSummary {
  name: string;
  head: number;
  visibility: "public" | "private" | "dm";
  topic: string;
  owner: string | null;
  archived: boolean;
  members: string[];
  last_read: number;
  unread: number;
  mentions: number;
}

export interface LostRoom {
  room: string;
  why: "removed" | "missing";
}

export interface Alert {
  room: string;
  /** Who wrote, when known (a message of a joined room). */
  author: string | null;
  body: string | null;
  mention: boolean;
}

export interface Notice {
  key: string;
  ts: number;
  text: string;
  /** For presence notices: whose, and which way. */
  user?: string;
  joined?: boolean;
}

/** Presence changes, said sparingly: never the user's own, and someone who left and is back
 * within PRESENCE_FLAP_MS was only reconnecting (the "left" goes, no "joined" comes). */
/** Who is online after a presence frame: its comings and goings applied to the list so far
 * (the join reply's, then each frame's), sorted; a name already there or already gone is a no-op. */
export function applyPresence(users: readonly string[], joined: readonly string[], left: readonly string[]): string[] {
  const online = new Set(users);
  for (const user of joined) online.add(user);
  for (const user of left) online.delete(user);
  return [...online].sort();
}

export function presenceNotices(
  notices: Notice[],
  joined: string[],
  left: string[],
  me: string | null,
  now: number,
): Notice[] {
  let result = notices;
  for (const user of joined) {
    if (user === me) continue;
    const flap = result.findLast((n) => n.user === user && n.joined === false && now - n.ts < PRESENCE_FLAP_MS);
    if (flap) result = result.filter((n) => n !== flap);
    else result = [...result, { key: `${now}-${user}-joined`, ts: now, text: `${user} joined`, user, joined: true }];
  }
  for (const user of left) {
    if (user === me) continue;
    result = [...result, { key: `${now}-${user}-left`, ts: now, text: `${user} left`, user, joined: false }];
  }
  return result;
}

/** Something the user did that waits for the server: a new message (no `kind`), or a change
 * to message `target` (its id). Sent in order, each once per connection, until answered; the
 * same id (`client_msg_id`, or `ref` for a change) makes sending it again safe. */
export interface PendingMessage {
  clientMsgId: string;
  room: string;
  /** The message's body, or an edit's new body ("" for deletes and reactions). */
  body: string;
  ts: number;
  /** Set when the server refused it for good (too large, invalid): shown, never resent. */
  failed: string | null;
  kind?: "edit" | "delete" | "react";
  target?: string;
  emoji?: string;
  on?: boolean;
}

export function isChange(pending: PendingMessage): boolean {
  return pending.kind !== undefined;
}

export interface RoomView {
  name: string;
  /** Sorted by seq, each once. */
  messages: ChatMessage[];
  notices: Notice[];
  users: string[];
  /** user -> time (ms) until which the typing indicator shows */
  typing: Record<string, number>;
  /** Highest seq received: the resume cursor. */
  cursor: number | null;
  /** Highest change number applied (edits, deletes, reactions): the change cursor. */
  changes: number | null;
  joined: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  /** The newest seq when the room was last joined: history has caught up once `cursor` reaches it. */
  head: number;
  /** Bumped when the room's members change: a member list re-reads them. */
  membersVersion: number;
  /** The read position when the user opened the room: "new messages" start after it. */
  readMark: number | null;
}

/** What the sidebar and header know of a room the user can see. */
export interface RoomMeta {
  name: string;
  visibility: "public" | "private" | "dm";
  topic: string;
  owner: string | null;
  archived: boolean;
  /** A direct message's members. */
  members: string[];
  /** The user's read position, and what is new after it (not their own messages). */
  lastRead: number;
  unread: number;
  mentions: number;
  /** The newest seq already counted into unread: nothing is counted twice. */
  countedUpTo: number;
}

export function metaOf(room: RoomSummary): RoomMeta {
  return {
    name: room.name,
    visibility: room.visibility,
    topic: room.topic,
    owner: room.owner,
    archived: room.archived,
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
    members: [],
    lastRead: 0,
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

export interface ChatSnapshot {
  status: ConnectionStatus;
  user: string | null;
  rooms: Record<string, RoomView>;
  /** Every room the user can see, by name. */
  directory: Record<string, RoomMeta>;
  /** Rooms that went away under the user: removed from, or never there (a stale link). */
  lostRooms: LostRoom[];
  outbox: PendingMessage[];
  /** Why the connection ended for good (bad credentials, origin refused...). */
  fatal: { code: number; text: string } | null;
  /** The last thing worth telling about the connection ("The server is restarting."). */
  notice: string | null;
  reconnectAttempt: number;
}

const TYPING_SHOW_MS = 4000;
// The longest wait between two attempts: a restart takes seconds, and the user should not
// wait half a minute after the server is back (focus, "online" and "Reconnect now" skip it).
const RECONNECT_CAP_MS = 8000;
// A user who leaves and is back within this long was reconnecting: no notice either way.
const PRESENCE_FLAP_MS = 60_000;
const TYPING_SEND_EVERY_MS = 2000;
const STORE_RETRY_MS = 2000;
const OPEN = 1;

function emptyRoom(name: string): RoomView {
  return {
    name,
    messages: [],
    notices: [],
    users: [],
    typing: {},
    cursor: null,
    changes: null,
    joined: false,
    hasOlder: false,
    loadingOlder: false,
    head: 0,
    membersVersion: 0,
    readMark: null,
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

const VERBS: Record<NonNullable<PendingMessage["kind"]>, string> = {
  edit: "edit the message",
  delete: "delete the message",
  react: "react to the message",
};

/** The frame that sends a pending message or change. */
function frameOf(pending: PendingMessage): ClientFrame {
  const common = { room: pending.room, ref: pending.clientMsgId };
  switch (pending.kind) {
    case "edit":
      return { type: "edit", id: pending.target ?? "", body: pending.body, ...common };
    case "delete":
      return { type: "delete", id: pending.target ?? "", ...common };
    case "react":
      return { type: "react", id: pending.target ?? "", emoji: pending.emoji ?? "", on: pending.on ?? true, ...common };
    default:
      return { type: "send", room: pending.room, body: pending.body, client_msg_id: pending.clientMsgId };
  }
}

export class ChatClient {
  private state: ChatSnapshot = {
    status: "connecting",
    user: null,
    rooms: {},
    directory: {},
    lostRooms: [],
    outbox: [],
    fatal: null,
    notice: null,
    reconnectAttempt: 0,
  };
  private readonly listeners = new Set<() => void>();
  private socket: WebSocketLike | null = null;
  private reconnectTimer: unknown = null;
  private typingPruneTimer: unknown = null;
  private readonly retryTimers = new Map<string, unknown>();
  /** client_msg_ids sent on the current connection and not yet answered */
  private inFlight = new Set<string>();
  private readonly openRooms: string[] = [];
  private lastTypingSent = new Map<string, number>();
  /** Read positions not yet sent (the connection was down). */
  private readonly pendingReads = new Map<string, number>();
  private stopped = false;
  private restored = false;

  constructor(
    private readonly url: string,
    private readonly env: ChatEnvironment,
  ) {}

  // --- store interface for React's useSyncExternalStore
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): ChatSnapshot => this.state;

  private update(patch: Partial<ChatSnapshot>): void {
    this.state = { ...this.state, ...patch };
    // What waits to be sent outlives the page: a reload or a closed tab sends it later.
    if (patch.outbox !== undefined) this.env.saveOutbox(JSON.stringify(patch.outbox));
    for (const listener of this.listeners) listener();
  }

  private updateRoom(name: string, change: (room: RoomView) => Partial<RoomView>): void {
    const room = this.state.rooms[name] ?? emptyRoom(name);
    this.update({ rooms: { ...this.state.rooms, [name]: { ...room, ...change(room) } } });
  }

  // --- lifecycle
  start(): void {
    this.stopped = false;
    if (!this.restored) {
      this.restored = true;
      this.restoreOutbox();
    }
    this.connect();
  }

  private restoreOutbox(): void {
    let saved: unknown;
    try {
      saved = JSON.parse(this.env.loadOutbox() ?? "[]");
    } catch {
      return;
    }
    if (!Array.isArray(saved)) return;
    const valid = saved.filter(
      (p: Partial<PendingMessage>): p is PendingMessage =>
        typeof p.clientMsgId === "string" && typeof p.room === "string" && typeof p.body === "string",
    );
    const known = new Set(this.state.outbox.map((p) => p.clientMsgId));
    this.update({
      outbox: [
        ...this.state.outbox,
        ...valid.filter((p) => !known.has(p.clientMsgId)).map((p) => ({ ...p, failed: p.failed ?? null })),
      ],
    });
    // Their rooms are joined so that they can be sent.
    for (const room of new Set(valid.map((p) => p.room))) if (!this.openRooms.includes(room)) this.openRooms.push(room);
  }

  /** Try again now, not when the backoff says: the user asked, or the network or tab is back. */
  reconnectNow(): void {
    if (this.stopped || this.state.status === "connected" || this.state.status === "connecting") return;
    this.env.clearTimeout(this.reconnectTimer);
    this.update({ reconnectAttempt: 0, fatal: null, status: "connecting" });
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.env.clearTimeout(this.reconnectTimer);
    this.env.clearTimeout(this.typingPruneTimer);
    for (const timer of this.retryTimers.values()) this.env.clearTimeout(timer);
    this.retryTimers.clear();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "bye");
    }
    this.update({ status: "closed" });
  }

  /** The browser says the network is gone (or back): show it, and retry at once when back. */
  setOnline(online: boolean): void {
    if (this.stopped || this.state.fatal) return;
    if (!online) {
      this.update({ status: "offline" });
      return;
    }
    if (this.state.status !== "connected") {
      this.env.clearTimeout(this.reconnectTimer);
      this.update({ reconnectAttempt: 0 });
      this.connect();
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const old = this.socket;
    if (old) {
      old.onclose = null;
      old.onmessage = null;
      old.close();
    }
    this.inFlight = new Set();
    const socket = this.env.createSocket(this.url);
    this.socket = socket;
    socket.onmessage = (event) => {
      if (typeof event.data === "string") this.onFrame(JSON.parse(event.data) as ServerFrame);
    };
    socket.onclose = (event) => {
      this.onClose(event.code, event.reason);
    };
    socket.onerror = () => undefined; // onclose follows and carries the code
  }

  private onClose(code: number, reason: string): void {
    this.socket = null;
    this.inFlight = new Set();
    const rooms: Record<string, RoomView> = {};
    for (const [name, room] of Object.entries(this.state.rooms)) rooms[name] = { ...room, joined: false };
    if (TERMINAL_CLOSE_CODES.has(code)) {
      this.update({ rooms, status: "closed", fatal: { code, text: describeClose(code, reason) } });
      return;
    }
    const attempt = this.state.reconnectAttempt;
    const delay = fullJitterDelay(attempt, 500, RECONNECT_CAP_MS, () => this.env.random());
    this.update({
      rooms,
      status: this.state.status === "offline" ? "offline" : "reconnecting",
      notice: describeClose(code, reason),
      reconnectAttempt: attempt + 1,
    });
    this.env.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.env.setTimeout(() => {
      this.connect();
    }, delay);
  }

  private sendFrame(frame: ClientFrame): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN || this.state.status !== "connected") return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  // --- what the UI asks for
  /** The rooms the server listed (GET /api/rooms), replacing what was known; messages that
   * arrived meanwhile (past the listed head) are counted on top. */
  setDirectory(rooms: RoomMeta[]): void {
    this.update({ directory: Object.fromEntries(rooms.map((room) => [room.name, room])) });
    for (const view of Object.values(this.state.rooms)) {
      const meta = this.state.directory[view.name];
      if (view.readMark === null && meta) this.updateRoom(view.name, () => ({ readMark: meta.lastRead }));
      for (const message of view.messages) this.count(message, false);
    }
  }

  /** Fetch the list again: on every (re)connection, and when counts cannot be worked out here. */
  async refreshDirectory(): Promise<void> {
    try {
      this.setDirectory((await this.env.fetchRooms()).map(metaOf));
    } catch {
      // unreachable for now: the next connection fetches it again
    }
  }

  /** A room the user made or opened, or heard of: known at once; its counts kept if known. */
  addRoom(room: RoomMeta): void {
    const known = this.state.directory[room.name];
    const merged = known
      ? { ...known, topic: room.topic, owner: room.owner, archived: room.archived, members: room.members }
      : room;
    this.update({ directory: { ...this.state.directory, [room.name]: merged } });
  }

  private patchMeta(room: string, change: (meta: RoomMeta) => Partial<RoomMeta>): void {
    const meta = this.state.directory[room];
    if (meta) this.update({ directory: { ...this.state.directory, [room]: { ...meta, ...change(meta) } } });
  }

  private mentionsMe(mentions: string[]): boolean {
    return mentions.includes("@room") || (this.state.user !== null && mentions.includes(this.state.user));
  }

  /** A message of a joined room arrived: count it once, if it is new to the user. */
  private count(message: ChatMessage, live: boolean): void {
    const meta = this.state.directory[message.room];
    if (!meta || message.seq <= meta.countedUpTo) return;
    const fresh = message.author !== this.state.user && message.seq > meta.lastRead;
    const mention = fresh && this.mentionsMe(message.mentions);
    this.patchMeta(message.room, (m) => ({
      countedUpTo: message.seq,
      unread: m.unread + (fresh ? 1 : 0),
      mentions: m.mentions + (mention ? 1 : 0),
    }));
    if (live && fresh && (mention || meta.visibility === "dm")) {
      this.env.notify({ room: message.room, author: message.author, body: message.body, mention });
    }
  }

  /** The user has seen the room up to seq (it was on screen): tell the server, and every tab. */
  markRead(room: string, seq: number): void {
    const meta = this.state.directory[room];
    if (!meta || seq <= meta.lastRead) return;
    this.applyRead(room, seq);
    this.pendingReads.set(room, seq);
    this.flushReads();
  }

  private flushReads(): void {
    for (const [room, seq] of this.pendingReads) {
      if (!this.sendFrame({ type: "read", room, seq })) return;
      this.pendingReads.delete(room);
    }
  }

  private applyRead(room: string, seq: number): void {
    const meta = this.state.directory[room];
    if (!meta || seq <= meta.lastRead) return;
    if (seq >= meta.countedUpTo) {
      this.patchMeta(room, () => ({ lastRead: seq, unread: 0, mentions: 0 }));
      return;
    }
    // Read part of what was counted: recount from the messages here if they cover it.
    const loaded = this.state.rooms[room]?.messages ?? [];
    const first = loaded[0]?.seq;
    if (first !== undefined && first <= seq + 1) {
      const after = loaded.filter((m) => m.seq > seq && m.seq <= meta.countedUpTo && m.author !== this.state.user);
      this.patchMeta(room, () => ({
        lastRead: seq,
        unread: after.length,
        mentions: after.filter((m) => this.mentionsMe(m.mentions)).length,
      }));
    } else {
      this.patchMeta(room, () => ({ lastRead: seq }));
      void this.refreshDirectory();
    }
  }

  /** The user has read what went wrong (a change the server refused). */
  clearNotice(): void {
    this.update({ notice: null });
  }

  /** The UI has told the user about the rooms they lost. */
  acknowledgeLostRooms(): void {
    this.update({ lostRooms: [] });
  }

  forget(room: string): void {
    const directory = Object.fromEntries(Object.entries(this.state.directory).filter(([name]) => name !== room));
    const rooms = Object.fromEntries(Object.entries(this.state.rooms).filter(([name]) => name !== room));
    const index = this.openRooms.indexOf(room);
    if (index >= 0) this.openRooms.splice(index, 1);
    this.update({ directory, rooms, lostRooms: this.state.lostRooms.filter((lost) => lost.room !== room) });
  }

  /** The room is gone for this user: forget it, say why (unless they left it themselves), and
   * fail what waits to be sent there, so it can be sent elsewhere or discarded. */
  private lose(room: string, why: LostRoom["why"] | null): void {
    this.forget(room);
    if (why) this.update({ lostRooms: [...this.state.lostRooms, { room, why }] });
    const reason = why === "missing" ? "There is no such room, or you are not in it." : "You are no longer in this room.";
    // No ack will come for what was on its way there: a retry elsewhere must send it again.
    for (const p of this.state.outbox) if (p.room === room) this.inFlight.delete(p.clientMsgId);
    this.update({
      outbox: this.state.outbox.map((p) => (p.room === room && !p.failed ? { ...p, failed: reason } : p)),
    });
  }

  /** Open the room: join it (once per connection), and mark where reading stopped. */
  join(room: string): void {
    if (!this.openRooms.includes(room)) this.openRooms.push(room);
    this.updateRoom(room, () => ({ readMark: this.state.directory[room]?.lastRead ?? null }));
    this.sendJoin(room);
  }

  private sendJoin(room: string): void {
    const view = this.state.rooms[room];
    const cursor = view?.cursor ?? null;
    const changes = view?.changes ?? null;
    if (cursor === null) this.sendFrame({ type: "join", room });
    else if (changes === null) this.sendFrame({ type: "join", room, after: cursor });
    else this.sendFrame({ type: "join", room, after: cursor, changes_after: changes });
  }

  send(room: string, body: string): void {
    const pending: PendingMessage = {
      clientMsgId: this.env.newId(),
      room,
      body,
      ts: this.env.now(),
      // Refused for good (too many tabs, bad credentials): not queued for a connection that will not come.
      failed: this.state.fatal ? this.state.fatal.text : null,
    };
    this.update({ outbox: [...this.state.outbox, pending] });
    // A message ends a typing spell: typing the next one is news again.
    this.lastTypingSent.delete(room);
    this.flushOutbox();
  }

  /** Replace the body of one of the user's messages. */
  edit(room: string, id: string, body: string): void {
    this.queueChange({ room, body, kind: "edit", target: id });
  }

  /** Delete a message (the user's own; any, as the room's owner or an admin). */
  remove(room: string, id: string): void {
    this.queueChange({ room, body: "", kind: "delete", target: id });
  }

  /** Add (on) or take back the user's reaction to a message. */
  react(room: string, id: string, emoji: string, on: boolean): void {
    // Toggling back before the first went out: the two cancel, nothing is sent.
    const opposite = this.state.outbox.find(
      (p) =>
        p.kind === "react" && p.target === id && p.emoji === emoji && p.on !== on && !this.inFlight.has(p.clientMsgId),
    );
    if (opposite) {
      this.dismiss(opposite.clientMsgId);
      return;
    }
    this.queueChange({ room, body: "", kind: "react", target: id, emoji, on });
  }

  private queueChange(change: Omit<PendingMessage, "clientMsgId" | "ts" | "failed">): void {
    const pending: PendingMessage = { ...change, clientMsgId: this.env.newId(), ts: this.env.now(), failed: null };
    this.update({ outbox: [...this.state.outbox, pending] });
    this.flushOutbox();
  }

  dismiss(clientMsgId: string): void {
    this.update({ outbox: this.state.outbox.filter((p) => p.clientMsgId !== clientMsgId) });
  }

  /** Send a failed message again, to the same room or another; the same id makes it safe. */
  retry(clientMsgId: string, room?: string): void {
    this.update({
      outbox: this.state.outbox.map((p) =>
        p.clientMsgId === clientMsgId ? { ...p, failed: null, room: room ?? p.room } : p,
      ),
    });
    this.flushOutbox();
  }

  typing(room: string): void {
    const now = this.env.now();
    if (now - (this.lastTypingSent.get(room) ?? -Infinity) < TYPING_SEND_EVERY_MS) return;
    if (this.sendFrame({ type: "typing", room })) this.lastTypingSent.set(room, now);
  }

  async loadOlder(room: string, limit = 50): Promise<void> {
    const view = this.state.rooms[room];
    if (!view || view.loadingOlder || !view.hasOlder) return;
    const oldest = view.messages[0]?.seq;
    if (oldest === undefined) return;
    this.updateRoom(room, () => ({ loadingOlder: true }));
    try {
      const page = await this.env.fetchHistory(room, oldest, limit);
      this.updateRoom(room, (r) => ({
        messages: mergeMessages(r.messages, page.messages),
        hasOlder: page.has_more,
        loadingOlder: false,
      }));
    } catch {
      this.updateRoom(room, () => ({ loadingOlder: false }));
    }
  }

  /** Send what waits in the outbox for rooms joined on this connection, in order, once each. */
  private flushOutbox(): void {
    for (const pending of this.state.outbox) {
      if (pending.failed || this.inFlight.has(pending.clientMsgId) || this.retryTimers.has(pending.clientMsgId))
        continue;
      if (!this.state.rooms[pending.room]?.joined) continue;
      if (!this.sendFrame(frameOf(pending))) return;
      this.inFlight.add(pending.clientMsgId);
    }
  }

  private rejoinLater(room: string, seconds: number): void {
    const socket = this.socket;
    this.env.setTimeout(
      () => {
        if (this.socket === socket && this.openRooms.includes(room)) this.sendJoin(room);
      },
      Math.max(100, seconds * 1000),
    );
  }

  private retryLater(clientMsgId: string, ms: number): void {
    this.inFlight.delete(clientMsgId);
    this.retryTimers.set(
      clientMsgId,
      this.env.setTimeout(() => {
        this.retryTimers.delete(clientMsgId);
        this.flushOutbox();
      }, ms),
    );
  }

  // --- what the server says
  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "hello":
        this.update({
          status: "connected",
          user: frame.user,
          reconnectAttempt: 0,
          notice: null,
        });
        for (const room of this.openRooms) this.sendJoin(room);
        this.flushReads();
        // Counts may have moved while away: the list is fetched again on every connection.
        void this.refreshDirectory();
        break;
      case "joined":
        this.updateRoom(frame.room, (room) => ({
          joined: true,
          head: frame.head,
          users: frame.users,
          // First visit: older history exists below what the server sends now.
          hasOlder: room.messages.length === 0 ? frame.from > 0 : room.hasOlder,
          cursor: room.cursor ?? frame.from,
          changes: room.changes ?? frame.changes,
        }));
        this.flushOutbox();
        break;
      case "message":
        this.updateRoom(frame.room, (room) => ({
          messages: mergeMessages(room.messages, [frame]),
          cursor: Math.max(room.cursor ?? 0, frame.seq),
          typing: Object.fromEntries(Object.entries(room.typing).filter(([user]) => user !== frame.author)),
        }));
        this.count(frame, true);
        break;
      case "unread": {
        const meta = this.state.directory[frame.room];
        if (!meta || frame.seq <= meta.countedUpTo) break;
        this.patchMeta(frame.room, (m) => ({
          countedUpTo: frame.seq,
          unread: m.unread + frame.count,
          mentions: m.mentions + frame.mentions,
        }));
        if (frame.mentions > 0 || meta.visibility === "dm") {
          this.env.notify({ room: frame.room, author: null, body: null, mention: frame.mentions > 0 });
        }
        break;
      }
      case "read":
        this.applyRead(frame.room, frame.seq);
        break;
      case "ack":
        if (frame.client_msg_id) this.settle(frame.client_msg_id);
        break;
      case "applied":
        this.settle(frame.ref);
        break;
      case "message_updated":
        this.applyChange(frame.room, frame.seq, frame.change, () => ({
          body: frame.body,
          edited_at: frame.edited_at,
        }));
        break;
      case "message_deleted":
        this.applyChange(frame.room, frame.seq, frame.change, () => ({
          body: "",
          deleted: true,
          reactions: [],
          mentions: [],
        }));
        break;
      case "reactions":
        this.applyChange(frame.room, frame.seq, frame.change, () => ({ reactions: frame.reactions }));
        break;
      case "presence":
        this.updateRoom(frame.room, (room) => ({
          users: applyPresence(room.users, frame.joined, frame.left),
          notices: presenceNotices(room.notices, frame.joined, frame.left, this.state.user, this.env.now()),
        }));
        break;
      case "typing":
        if (frame.user !== this.state.user) {
          const until = this.env.now() + TYPING_SHOW_MS;
          this.updateRoom(frame.room, (room) => ({ typing: { ...room.typing, [frame.user]: until } }));
          this.scheduleTypingPrune();
        }
        break;
      case "room_created":
        if (!this.state.directory[frame.room]) this.addRoom(newMeta(frame.room, "public"));
        break;
      case "room_added":
        this.addRoom(newMeta(frame.room, frame.visibility, { topic: frame.topic, owner: frame.owner, members: frame.members }));
        break;
      case "room_updated":
        this.patchMeta(frame.room, () => ({ topic: frame.topic, archived: frame.archived }));
        break;
      case "members":
        this.updateRoom(frame.room, (room) => ({ membersVersion: room.membersVersion + 1 }));
        break;
      case "removed":
        // Nothing more of the room comes; the UI says why and lets it go.
        this.lose(frame.room, frame.reason === "removed" ? "removed" : null);
        break;
      case "left":
        break;
      case "error":
        if (frame.code === "unknown_room" && frame.room) {
          this.lose(frame.room, "missing");
          break;
        }
        if (frame.code === "rate_limited" && frame.room && frame.ref == null) {
          // A join refused for now (joins per user are limited; many tabs reconnecting at
          // once can pass it): asked again when the server says.
          this.rejoinLater(frame.room, frame.retry_after ?? 1);
          break;
        }
        this.onError(frame.code, frame.message, frame.ref ?? null, frame.retry_after ?? 1);
        break;
    }
  }

  /** A change to message `seq`: applied unless the copy here is already as new; the room's
   * change cursor moves past it either way. */
  private applyChange(room: string, seq: number, change: number, patch: () => Partial<ChatMessage>): void {
    this.updateRoom(room, (view) => {
      const at = view.messages.findIndex((m) => m.seq === seq);
      const known = at >= 0 ? view.messages[at] : undefined;
      const messages =
        known && change >= known.change
          ? view.messages.map((m, i) => (i === at ? { ...m, ...patch(), change } : m))
          : view.messages;
      return { messages, changes: Math.max(view.changes ?? 0, change) };
    });
  }

  private settle(clientMsgId: string): void {
    this.inFlight.delete(clientMsgId);
    this.update({ outbox: this.state.outbox.filter((p) => p.clientMsgId !== clientMsgId) });
  }

  private onError(code: string, message: string, ref: string | null, retryAfter: number): void {
    if (ref === null) {
      this.update({ notice: message });
      return;
    }
    const pending = this.state.outbox.find((p) => p.clientMsgId === ref);
    if (pending?.kind && code !== "rate_limited" && code !== "store_unavailable") {
      // A change refused: a delete of what is already gone is done; anything else is said and let go.
      this.settle(ref);
      if (!(pending.kind === "delete" && code === "unknown_message")) {
        this.update({ notice: `Could not ${VERBS[pending.kind]}: ${message}` });
      }
      return;
    }
    if (code === "rate_limited") {
      this.retryLater(ref, Math.max(100, retryAfter * 1000));
    } else if (code === "store_unavailable") {
      this.retryLater(ref, STORE_RETRY_MS);
    } else {
      this.inFlight.delete(ref);
      this.update({
        outbox: this.state.outbox.map((p) => (p.clientMsgId === ref ? { ...p, failed: message } : p)),
      });
    }
  }

  private scheduleTypingPrune(): void {
    if (this.typingPruneTimer !== null) return;
    this.typingPruneTimer = this.env.setTimeout(() => {
      this.typingPruneTimer = null;
      const now = this.env.now();
      let pending = false;
      const rooms: Record<string, RoomView> = {};
      for (const [name, room] of Object.entries(this.state.rooms)) {
        const typing = Object.fromEntries(Object.entries(room.typing).filter(([, until]) => until > now));
        pending ||= Object.keys(typing).length > 0;
        rooms[name] = Object.keys(typing).length === Object.keys(room.typing).length ? room : { ...room, typing };
      }
      this.update({ rooms });
      if (pending) this.scheduleTypingPrune();
    }, 1000);
  }
}

import { Outbox, type Attachment, type OutboxEnvironment, type PendingMessage } from "../composer/Outbox";
import { Uploads, type UploadEnvironment, type UploadProgress } from "../files/Uploads";
import { Directory, metaOf, newMeta, type Alert, type RoomMeta, type RoomSummary } from "../rooms/Directory";
import { RoomSubscription, type HistoryPage, type RoomView } from "../rooms/RoomSubscription";
import { fullJitterDelay } from "./backoff";
import {
  CloseCode,
  describeClose,
  isCloseCode,
  TERMINAL_CLOSE_CODES,
  type ClientFrame,
  type ServerFrame,
} from "./protocol";

/**
 * The chat connection: it owns the socket, reconnects with backoff and full jitter, routes
 * each frame to the part it is about, and keeps what the UI renders in one immutable snapshot.
 * The parts are its own and know nothing of the socket:
 * - a RoomSubscription per open room (messages, resume cursors, read mark, draft),
 * - the Outbox (what waits for the server, across reloads), and the Uploads of the files its
 *   messages carry,
 * - the Directory (every room the user can see, with unread and mention counts).
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

export interface ChatEnvironment extends OutboxEnvironment, UploadEnvironment {
  createSocket(url: string): WebSocketLike;
  random(): number;
  fetchHistory(room: string, before: number, limit: number): Promise<HistoryPage>;
  /** History around a message, or after one (GET /api/rooms/{room}/messages?around= / after=). */
  fetchWindow(room: string, from: { around: number } | { after: number }, limit: number): Promise<HistoryPage>;
  /** The rooms the user can see, with their read positions and counts (GET /api/rooms). */
  fetchRooms(): Promise<RoomSummary[]>;
  /** Something deserves the user's attention (a mention, a direct message): the browser's
   * side decides whether to show a notification (enabled, tab hidden, room not muted). */
  notify(alert: Alert): void;
  /** Where drafts wait across reloads (browser storage); null keeps them in memory. */
  loadDrafts(): string | null;
  saveDrafts(value: string): void;
  /** Someone's profile changed, or they were deactivated (people/People.ts keeps them). */
  profileChanged(frame: Extract<ServerFrame, { type: "profile" }>): void;
}

export interface LostRoom {
  room: string;
  why: "removed" | "missing";
  /** A public room: the user may join it again. */
  rejoinable: boolean;
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
  /** How far each file on its way up is (0 to 1), by attachment key. */
  uploads: UploadProgress;
  /** Why the connection ended for good (bad credentials, origin refused...). */
  fatal: { code: CloseCode; text: string } | null;
  /** The last thing worth telling about the connection ("The server is restarting."). */
  notice: string | null;
  reconnectAttempt: number;
}

const TYPING_SHOW_MS = 4000;
// The longest wait between two attempts: a restart takes seconds, and the user should not
// wait half a minute after the server is back (focus, "online" and "Reconnect now" skip it).
const RECONNECT_CAP_MS = 8000;
const TYPING_SEND_EVERY_MS = 2000;
const TYPING_PRUNE_MS = 1000;
const OPEN = 1;

export class ChatClient {
  private state: ChatSnapshot = {
    status: "connecting",
    user: null,
    rooms: {},
    directory: {},
    lostRooms: [],
    outbox: [],
    uploads: {},
    fatal: null,
    notice: null,
    reconnectAttempt: 0,
  };
  private readonly listeners = new Set<() => void>();
  private socket: WebSocketLike | null = null;
  private reconnectTimer: unknown = null;
  private typingPruneTimer: unknown = null;
  private readonly subscriptions = new Map<string, RoomSubscription>();
  /** Rooms joined on every connection, in the order they were opened. */
  private readonly openRooms: string[] = [];
  /** The room on screen: the only one with a read mark (set anew each time it is opened). */
  private shown: string | null = null;
  private readonly lastTypingSent = new Map<string, number>();
  /** Read positions not yet sent (the connection was down). */
  private readonly pendingReads = new Map<string, number>();
  private readonly directory = new Directory(() => {
    this.changed({ directory: this.directory.rooms });
  });
  private readonly outbox: Outbox;
  private readonly uploads: Uploads;
  private stopped = false;
  private restored = false;
  private batching = 0;
  private dirty = false;

  constructor(
    private readonly url: string,
    private readonly env: ChatEnvironment,
  ) {
    this.outbox = new Outbox(
      env,
      { joined: (room) => this.subscriptions.get(room)?.view.joined ?? false, send: (frame) => this.sendFrame(frame) },
      () => {
        this.changed({ outbox: this.outbox.items });
      },
    );
    this.uploads = new Uploads(env, this.outbox, () => {
      this.changed({ uploads: this.uploads.progress });
    });
    // Before anything renders: a message box opens with its room's draft.
    this.restoreDrafts();
  }

  // --- store interface for React's useSyncExternalStore
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): ChatSnapshot => this.state;

  private changed(patch: Partial<ChatSnapshot>): void {
    this.state = { ...this.state, ...patch };
    if (this.batching > 0) {
      this.dirty = true;
      return;
    }
    for (const listener of this.listeners) listener();
  }

  /** Many changes, one notification. */
  private batch<T>(work: () => T): T {
    this.batching++;
    try {
      return work();
    } finally {
      this.batching--;
      if (this.batching === 0 && this.dirty) {
        this.dirty = false;
        for (const listener of this.listeners) listener();
      }
    }
  }

  /** The room's subscription, made on first use. */
  private room(name: string): RoomSubscription {
    let subscription = this.subscriptions.get(name);
    if (!subscription) {
      const made = new RoomSubscription(name, () => {
        this.changed({ rooms: { ...this.state.rooms, [name]: made.view } });
      });
      subscription = made;
      this.subscriptions.set(name, made);
      this.changed({ rooms: { ...this.state.rooms, [name]: made.view } });
    }
    return subscription;
  }

  // --- lifecycle
  start(): void {
    this.stopped = false;
    if (!this.restored) {
      this.restored = true;
      this.batch(() => {
        // Unsent messages' rooms are joined so that they can be sent.
        for (const room of this.outbox.restore()) if (!this.openRooms.includes(room)) this.openRooms.push(room);
      });
    }
    this.connect();
  }

  /** Try again now, not when the backoff says: the user asked, or the network or tab is back. */
  reconnectNow(): void {
    if (this.stopped || this.state.status === "connected" || this.state.status === "connecting") return;
    this.env.clearTimeout(this.reconnectTimer);
    this.changed({ reconnectAttempt: 0, fatal: null, status: "connecting" });
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.env.clearTimeout(this.reconnectTimer);
    this.env.clearTimeout(this.typingPruneTimer);
    this.outbox.stop();
    this.uploads.stop();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(CloseCode.NORMAL, "bye");
    }
    this.changed({ status: "closed" });
  }

  /** The browser says the network is gone (or back): show it, and retry at once when back. */
  setOnline(online: boolean): void {
    if (this.stopped || this.state.fatal) return;
    if (!online) {
      this.changed({ status: "offline" });
      return;
    }
    if (this.state.status !== "connected") {
      this.env.clearTimeout(this.reconnectTimer);
      this.changed({ reconnectAttempt: 0 });
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
    this.outbox.connectionLost();
    const socket = this.env.createSocket(this.url);
    this.socket = socket;
    socket.onmessage = (event) => {
      if (typeof event.data === "string") {
        const frame = JSON.parse(event.data) as ServerFrame;
        this.batch(() => {
          this.onFrame(frame);
        });
      }
    };
    socket.onclose = (event) => {
      this.batch(() => {
        this.onClose(event.code, event.reason);
      });
    };
    socket.onerror = () => undefined; // onclose follows and carries the code
  }

  private onClose(code: number, reason: string): void {
    this.socket = null;
    this.outbox.connectionLost();
    this.uploads.setOnline(false);
    for (const subscription of this.subscriptions.values()) subscription.connectionLost();
    if (isCloseCode(code) && TERMINAL_CLOSE_CODES.has(code)) {
      this.changed({ status: "closed", fatal: { code, text: describeClose(code, reason) } });
      return;
    }
    const attempt = this.state.reconnectAttempt;
    const delay = fullJitterDelay(attempt, 500, RECONNECT_CAP_MS, () => this.env.random());
    this.changed({
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

  // --- the room list
  /** The rooms the server listed (GET /api/rooms), replacing what was known; messages that
   * arrived meanwhile (past the listed head) are counted on top. */
  setDirectory(rooms: RoomMeta[], mark?: number): void {
    this.batch(() => {
      if (!this.directory.replace(rooms, mark)) void this.refreshDirectory();
      for (const subscription of this.subscriptions.values()) {
        const view = subscription.view;
        if (view.name === this.shown && view.readMark === null && view.joined) {
          subscription.setReadMark(this.readMarkOf(view.name, view.head), this.newestOf(view.name));
        }
        for (const message of view.messages) this.directory.count(message, this.state.user, false);
      }
    });
  }

  /** Fetch the list again: on every (re)connection, and when counts cannot be worked out here. */
  async refreshDirectory(): Promise<void> {
    const mark = this.directory.listing();
    try {
      const rooms = await this.env.fetchRooms();
      this.setDirectory(rooms.map(metaOf), mark);
    } catch {
      // unreachable for now: the next connection fetches it again
      this.directory.abandon(mark);
    }
  }

  /** A room the user made or opened, or heard of: known at once; its counts kept if known. */
  addRoom(room: RoomMeta): void {
    this.directory.add(room);
  }

  /** Where "new messages" start in a room being opened: after the member's read position; a
   * room they are not (yet) in has nothing new for them (joining makes all of it read, up to
   * `head`, the newest message when joined). Null while that cannot be known yet. */
  private readMarkOf(room: string, head: number | null): number | null {
    const meta = this.directory.get(room);
    if (meta?.member) {
      if (meta.lastRead !== null) return meta.lastRead;
      void this.refreshDirectory(); // a member since this page loaded: the server knows where
      return null;
    }
    return head !== null && (meta || this.directory.loaded) ? head : null;
  }

  /** The newest message this tab knows the room has. */
  private newestOf(room: string): number {
    const view = this.subscriptions.get(room)?.view;
    return Math.max(view?.cursor ?? 0, view?.head ?? 0, this.directory.get(room)?.countedUpTo ?? 0);
  }

  // --- reading
  /** The user has seen the room up to seq (it was on screen): tell the server, and every tab. */
  markRead(room: string, seq: number): void {
    const meta = this.directory.get(room);
    if (!meta || seq <= (meta.lastRead ?? 0)) return;
    this.batch(() => {
      this.applyRead(room, seq);
    });
    this.pendingReads.set(room, seq);
    this.flushReads();
  }

  /** Everything in the room is read (Esc): up to the newest message this tab knows of. */
  markAllRead(room: string): void {
    const newest = Math.max(
      this.subscriptions.get(room)?.view.cursor ?? 0,
      this.directory.get(room)?.countedUpTo ?? 0,
    );
    if (newest > 0) this.markRead(room, newest);
  }

  private flushReads(): void {
    for (const [room, seq] of this.pendingReads) {
      if (!this.sendFrame({ type: "read", room, seq })) return;
      this.pendingReads.delete(room);
    }
  }

  private applyRead(room: string, seq: number): void {
    const loaded = this.subscriptions.get(room)?.view.messages ?? [];
    if (!this.directory.read(room, seq, loaded, this.state.user)) void this.refreshDirectory();
  }

  /** The user has read what went wrong (a change the server refused). */
  clearNotice(): void {
    this.changed({ notice: null });
  }

  /** The UI has told the user about the rooms they lost. */
  acknowledgeLostRooms(): void {
    this.changed({ lostRooms: [] });
  }

  /** The user left the room (or it went): stop following it here. */
  forget(room: string): void {
    this.batch(() => {
      this.directory.leave(room);
      this.close(room);
      this.changed({ lostRooms: this.state.lostRooms.filter((lost) => lost.room !== room) });
    });
  }

  private close(room: string): void {
    const index = this.openRooms.indexOf(room);
    if (index >= 0) this.openRooms.splice(index, 1);
    const subscription = this.subscriptions.get(room);
    if (!subscription) return;
    this.subscriptions.delete(room);
    const rooms = Object.fromEntries(Object.entries(this.state.rooms).filter(([name]) => name !== room));
    this.changed({ rooms });
    if (subscription.draft) this.saveDrafts();
  }

  /** The room is gone for this user: forget it, say why (unless they left it themselves), and
   * fail what waits to be sent there, so it can be sent elsewhere or discarded. */
  private lose(room: string, why: LostRoom["why"] | null): void {
    const rejoinable = this.directory.get(room)?.visibility === "public" && why === "removed";
    this.forget(room);
    if (why === "missing") this.directory.remove(room);
    if (why) this.changed({ lostRooms: [...this.state.lostRooms, { room, why, rejoinable }] });
    this.outbox.failRoom(
      room,
      why === "missing" ? "There is no such room, or you are not in it." : "You are no longer in this room.",
    );
  }

  // --- a room
  /** Open the room: join it (once per connection), and mark where reading stopped. The room
   * that was on screen forgets its mark: it is worked out afresh when it is opened again. */
  join(room: string): void {
    if (!this.openRooms.includes(room)) this.openRooms.push(room);
    this.batch(() => {
      if (this.shown !== room) this.subscriptions.get(this.shown ?? "")?.setReadMark(null, 0);
      this.shown = room;
      const subscription = this.room(room);
      subscription.setReadMark(
        this.readMarkOf(room, subscription.view.joined ? subscription.view.head : null),
        this.newestOf(room),
      );
    });
    this.sendFrame(this.room(room).joinFrame());
  }

  /** Show message `seq` of the room (a search hit; the room is opened with join) with what
   * surrounds it, fetched if it is not loaded; newer history pages in below it. */
  async jumpTo(room: string, seq: number, limit = 50): Promise<void> {
    await this.room(room).showAround(seq, (from, n) => this.env.fetchWindow(room, from, n), limit);
  }

  async loadNewer(room: string, limit = 50): Promise<void> {
    await this.subscriptions.get(room)?.loadNewer((from, n) => this.env.fetchWindow(room, from, n), limit);
  }

  /** Leave a window of older history for the room's live end. */
  backToLatest(room: string): void {
    this.subscriptions.get(room)?.backToLatest();
  }

  /** A new message, with files: they are uploaded first (waiting, like the message, while
   * the connection is down), then the message goes with them. */
  send(room: string, body: string, files: readonly File[] = []): void {
    // What is sent shows at the live end: the user goes there to see it go.
    this.backToLatest(room);
    const attachments: Attachment[] = files.map((file) => {
      const key = this.env.newId();
      this.uploads.add(key, file);
      return { key, name: file.name || "file", size: file.size, file: null };
    });
    // Refused for good (too many tabs, bad credentials): not queued for a connection that will not come.
    this.outbox.send(room, body, this.state.fatal ? this.state.fatal.text : null, attachments);
    this.uploads.kick();
    // A message ends a typing spell: typing the next one is news again.
    this.lastTypingSent.delete(room);
  }

  /** Take a file off a message still waiting (its upload stops). */
  cancelAttachment(clientMsgId: string, key: string): void {
    this.outbox.removeAttachment(clientMsgId, key);
    this.uploads.cancel(key);
  }

  /** Replace the body of one of the user's messages. */
  edit(room: string, id: string, body: string): void {
    this.outbox.change({ room, body, kind: "edit", target: id });
  }

  /** Delete a message (the user's own; any, as the room's owner or an admin). */
  remove(room: string, id: string): void {
    this.outbox.change({ room, body: "", kind: "delete", target: id });
  }

  /** Add (on) or take back the user's reaction to a message. */
  react(room: string, id: string, emoji: string, on: boolean): void {
    this.outbox.react(room, id, emoji, on);
  }

  dismiss(clientMsgId: string): void {
    this.forgetFilesOf(clientMsgId);
    this.outbox.dismiss(clientMsgId);
  }

  /** Send a failed message again, to the same room or another; the same id makes it safe
   * (files not uploaded yet are tried again). */
  retry(clientMsgId: string, room?: string): void {
    this.outbox.retry(clientMsgId, room);
    this.uploads.kick();
  }

  /** The message is sent, or given up: the bytes of its files are no longer needed here. */
  private forgetFilesOf(clientMsgId: string): void {
    const pending = this.outbox.items.find((p) => p.clientMsgId === clientMsgId);
    for (const attachment of pending?.attachments ?? []) this.uploads.forget(attachment.key);
  }

  typing(room: string): void {
    const now = this.env.now();
    if (now - (this.lastTypingSent.get(room) ?? -Infinity) < TYPING_SEND_EVERY_MS) return;
    if (this.sendFrame({ type: "typing", room })) this.lastTypingSent.set(room, now);
  }

  async loadOlder(room: string, limit = 50): Promise<void> {
    await this.subscriptions.get(room)?.loadOlder((before, n) => this.env.fetchHistory(room, before, n), limit);
  }

  // --- drafts
  /** What the user typed in the room and has not sent (kept across reloads). */
  draftOf(room: string): string {
    return this.subscriptions.get(room)?.draft ?? "";
  }

  setDraft(room: string, text: string): void {
    if (text === this.draftOf(room)) return;
    this.room(room).setDraft(text);
    this.saveDrafts();
  }

  private saveDrafts(): void {
    const drafts: Record<string, string> = {};
    for (const [name, subscription] of this.subscriptions) if (subscription.draft) drafts[name] = subscription.draft;
    this.env.saveDrafts(JSON.stringify(drafts));
  }

  private restoreDrafts(): void {
    let saved: unknown;
    try {
      saved = JSON.parse(this.env.loadDrafts() ?? "{}");
    } catch {
      return;
    }
    if (typeof saved !== "object" || saved === null || Array.isArray(saved)) return;
    for (const [room, text] of Object.entries(saved)) if (typeof text === "string" && text) this.room(room).setDraft(text);
  }

  // --- what the server says
  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "hello":
        this.changed({ status: "connected", user: frame.user, reconnectAttempt: 0, notice: null });
        for (const room of this.openRooms) this.sendFrame(this.room(room).joinFrame());
        this.flushReads();
        this.uploads.setOnline(true);
        // Counts may have moved while away: the list is fetched again on every connection.
        void this.refreshDirectory();
        break;
      case "joined": {
        const subscription = this.room(frame.room);
        // Before the directory counts the user in: a room joined just now has nothing new.
        if (frame.room === this.shown) {
          if (subscription.view.readMark === null) {
            subscription.setReadMark(this.readMarkOf(frame.room, frame.head), Math.max(frame.head, this.newestOf(frame.room)));
          } else {
            subscription.extendUnread(frame.head); // what came while the connection was down
          }
        }
        subscription.onJoined(frame);
        this.directory.joined(frame.room, frame.head);
        this.outbox.flush();
        break;
      }
      case "message": {
        this.room(frame.room).onMessage(frame);
        const alert = this.directory.count(frame, this.state.user, true);
        if (alert) this.env.notify(alert);
        break;
      }
      case "unread": {
        const alert = this.directory.onUnread(frame);
        if (alert) this.env.notify(alert);
        break;
      }
      case "read":
        this.applyRead(frame.room, frame.seq);
        break;
      case "ack":
        if (frame.client_msg_id) {
          this.forgetFilesOf(frame.client_msg_id);
          this.outbox.settle(frame.client_msg_id);
        }
        break;
      case "applied":
        this.outbox.settle(frame.ref);
        break;
      case "message_updated":
        this.subscriptions.get(frame.room)?.applyChange(frame.seq, frame.change, {
          body: frame.body,
          edited_at: frame.edited_at,
        });
        break;
      case "message_deleted":
        this.subscriptions
          .get(frame.room)
          ?.applyChange(frame.seq, frame.change, { body: "", deleted: true, reactions: [], mentions: [] });
        break;
      case "reactions":
        this.subscriptions.get(frame.room)?.applyChange(frame.seq, frame.change, { reactions: frame.reactions });
        break;
      case "presence":
        this.subscriptions.get(frame.room)?.onPresence(frame, this.state.user, this.env.now());
        break;
      case "typing":
        if (frame.user !== this.state.user) {
          this.subscriptions.get(frame.room)?.onTyping(frame.user, this.env.now() + TYPING_SHOW_MS);
          this.scheduleTypingPrune();
        }
        break;
      case "room_created":
        if (!this.directory.get(frame.room)) this.directory.add(heardOf(frame.room, "public", false));
        break;
      case "room_added":
        this.directory.add({
          ...heardOf(frame.room, frame.visibility, true),
          topic: frame.topic,
          owner: frame.owner,
          members: frame.members,
        });
        break;
      case "room_updated":
        if (!this.directory.onRoomUpdated(frame)) void this.refreshDirectory(); // out of the archive
        break;
      case "profile":
        this.env.profileChanged(frame);
        break;
      case "members":
        this.subscriptions.get(frame.room)?.membersChanged();
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
        this.onError(frame);
        break;
    }
  }

  /** Join the room again in ``seconds``, on this connection, if it is still open here (a new
   * connection joins its open rooms anyway). */
  private rejoinLater(room: string, seconds: number): void {
    const socket = this.socket;
    this.env.setTimeout(
      () => {
        if (this.socket === socket && this.openRooms.includes(room)) this.sendFrame(this.room(room).joinFrame());
      },
      Math.max(100, seconds * 1000),
    );
  }

  private onError(frame: Extract<ServerFrame, { type: "error" }>): void {
    const ref = frame.ref ?? null;
    const notice = ref === null ? frame.message : this.outbox.refuse(ref, frame.code, frame.message, frame.retry_after ?? 1);
    if (notice) this.changed({ notice });
  }

  private scheduleTypingPrune(): void {
    if (this.typingPruneTimer !== null) return;
    this.typingPruneTimer = this.env.setTimeout(() => {
      this.typingPruneTimer = null;
      const now = this.env.now();
      const pending = this.batch(() =>
        [...this.subscriptions.values()].map((subscription) => subscription.pruneTyping(now)).includes(true),
      );
      if (pending) this.scheduleTypingPrune();
    }, TYPING_PRUNE_MS);
  }
}

/** A room heard of by a frame: nothing counted, and where reading stopped not known (the
 * next list says). */
function heardOf(name: string, visibility: RoomMeta["visibility"], member: boolean): RoomMeta {
  return newMeta(name, visibility, { member });
}

import type { ClientFrame, ErrorCode } from "../socket/protocol";

/**
 * What the user did that waits for the server: new messages, edits, deletes and reactions.
 * Each is sent in order, once per connection, until the server answers; the same id
 * (`client_msg_id`, or `ref` for a change) makes sending it again safe. Refused for a while
 * (rate limit, store down): sent again later. Refused for good: a message is marked failed and
 * shown, a change is let go and the reason told. What waits is kept in the browser's storage,
 * so a reload or a closed tab sends it later.
 */

/** Something that waits for the server: a new message (no `kind`), or a change to message
 * `target` (its id). */
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

export type PendingChange = Omit<PendingMessage, "clientMsgId" | "ts" | "failed">;

export function isChange(pending: PendingMessage): boolean {
  return pending.kind !== undefined;
}

export interface OutboxEnvironment {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
  newId(): string;
  /** Where unsent messages wait across reloads (browser storage); null keeps them in memory. */
  loadOutbox(): string | null;
  saveOutbox(value: string): void;
}

/** How the outbox reaches the server: whether a room is joined on the current connection,
 * and a send that says whether the frame went out. */
export interface OutboxTransport {
  joined(room: string): boolean;
  send(frame: ClientFrame): boolean;
}

const STORE_RETRY_MS = 2000;

const VERBS: Record<NonNullable<PendingMessage["kind"]>, string> = {
  edit: "edit the message",
  delete: "delete the message",
  react: "react to the message",
};

/** The frame that sends a pending message or change. */
export function frameOf(pending: PendingMessage): ClientFrame {
  const common = { room: pending.room, ref: pending.clientMsgId };
  const id = pending.target ?? "";
  if (pending.kind === undefined) {
    return { type: "send", room: pending.room, body: pending.body, client_msg_id: pending.clientMsgId };
  }
  switch (pending.kind) {
    case "edit":
      return { type: "edit", id, body: pending.body, ...common };
    case "delete":
      return { type: "delete", id, ...common };
    case "react":
      return { type: "react", id, emoji: pending.emoji ?? "", on: pending.on ?? true, ...common };
  }
}

export class Outbox {
  private current: PendingMessage[] = [];
  /** Ids sent on the current connection and not yet answered. */
  private inFlight = new Set<string>();
  private readonly retryTimers = new Map<string, unknown>();

  constructor(
    private readonly env: OutboxEnvironment,
    private readonly transport: OutboxTransport,
    private readonly onChange: () => void,
  ) {}

  get items(): PendingMessage[] {
    return this.current;
  }

  private set(items: PendingMessage[]): void {
    this.current = items;
    this.env.saveOutbox(JSON.stringify(items));
    this.onChange();
  }

  /** What an earlier page left unsent; returns the rooms it waits for (to be joined). */
  restore(): string[] {
    let saved: unknown;
    try {
      saved = JSON.parse(this.env.loadOutbox() ?? "[]");
    } catch {
      return [];
    }
    if (!Array.isArray(saved)) return [];
    const valid = saved.filter(
      (p: Partial<PendingMessage>): p is PendingMessage =>
        typeof p.clientMsgId === "string" && typeof p.room === "string" && typeof p.body === "string",
    );
    const known = new Set(this.current.map((p) => p.clientMsgId));
    const fresh = valid.filter((p) => !known.has(p.clientMsgId)).map((p) => ({ ...p, failed: p.failed ?? null }));
    if (fresh.length > 0) this.set([...this.current, ...fresh]);
    return [...new Set(fresh.map((p) => p.room))];
  }

  /** A new message; `failed` when no connection will come to send it (said at once). */
  send(room: string, body: string, failed: string | null): void {
    this.set([...this.current, { clientMsgId: this.env.newId(), room, body, ts: this.env.now(), failed }]);
    this.flush();
  }

  change(change: PendingChange): void {
    this.set([...this.current, { ...change, clientMsgId: this.env.newId(), ts: this.env.now(), failed: null }]);
    this.flush();
  }

  /** Add (on) or take back a reaction; toggled back before the first went out, the two
   * cancel and nothing is sent. */
  react(room: string, id: string, emoji: string, on: boolean): void {
    const opposite = this.current.find(
      (p) =>
        p.kind === "react" && p.target === id && p.emoji === emoji && p.on !== on && !this.inFlight.has(p.clientMsgId),
    );
    if (opposite) this.dismiss(opposite.clientMsgId);
    else this.change({ room, body: "", kind: "react", target: id, emoji, on });
  }

  dismiss(clientMsgId: string): void {
    this.set(this.current.filter((p) => p.clientMsgId !== clientMsgId));
  }

  /** Send a failed message again, to the same room or another; the same id makes it safe. */
  retry(clientMsgId: string, room?: string): void {
    this.set(this.current.map((p) => (p.clientMsgId === clientMsgId ? { ...p, failed: null, room: room ?? p.room } : p)));
    this.flush();
  }

  /** The server has it (ack, applied). */
  settle(clientMsgId: string): void {
    this.inFlight.delete(clientMsgId);
    if (this.current.some((p) => p.clientMsgId === clientMsgId)) this.dismiss(clientMsgId);
  }

  /** The server refused `ref`. Returns what to tell the user, if anything. */
  refuse(ref: string, code: ErrorCode, message: string, retryAfter: number): string | null {
    const pending = this.current.find((p) => p.clientMsgId === ref);
    const transient = code === "rate_limited" || code === "store_unavailable";
    if (pending?.kind && !transient) {
      // A change refused: a delete of what is already gone is done; anything else is said and let go.
      this.settle(ref);
      if (pending.kind === "delete" && code === "unknown_message") return null;
      return `Could not ${VERBS[pending.kind]}: ${message}`;
    }
    if (transient) {
      this.retryLater(ref, code === "rate_limited" ? Math.max(100, retryAfter * 1000) : STORE_RETRY_MS);
    } else {
      this.inFlight.delete(ref);
      this.set(this.current.map((p) => (p.clientMsgId === ref ? { ...p, failed: message } : p)));
    }
    return null;
  }

  /** The room went away: what waits for it fails with the reason, to be sent elsewhere or
   * discarded. No answer will come for what was on its way there. */
  failRoom(room: string, reason: string): void {
    for (const p of this.current) if (p.room === room) this.inFlight.delete(p.clientMsgId);
    this.set(this.current.map((p) => (p.room === room && !p.failed ? { ...p, failed: reason } : p)));
  }

  /** A new connection: everything unanswered is sent again once its room is joined. */
  connectionLost(): void {
    this.inFlight = new Set();
  }

  /** Send what waits for rooms joined on this connection, in order, once each. */
  flush(): void {
    for (const pending of this.current) {
      const id = pending.clientMsgId;
      if (pending.failed || this.inFlight.has(id) || this.retryTimers.has(id)) continue;
      if (!this.transport.joined(pending.room)) continue;
      if (!this.transport.send(frameOf(pending))) return;
      this.inFlight.add(id);
    }
  }

  private retryLater(clientMsgId: string, ms: number): void {
    this.inFlight.delete(clientMsgId);
    this.retryTimers.set(
      clientMsgId,
      this.env.setTimeout(() => {
        this.retryTimers.delete(clientMsgId);
        this.flush();
      }, ms),
    );
  }

  stop(): void {
    for (const timer of this.retryTimers.values()) this.env.clearTimeout(timer);
    this.retryTimers.clear();
  }
}

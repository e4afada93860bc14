import type { ClientFrame, ErrorCode, FileRef } from "../socket/protocol";

/**
 * What the user did that waits for the server: new messages (and the files they carry),
 * edits, deletes and reactions.
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
  /** Files the message carries: it is sent once every one of them is uploaded. */
  attachments?: Attachment[];
}

/** A file of a message waiting in the outbox: its bytes wait in the browser (files/Uploads)
 * under `key` until uploaded; then `file` is what the server made of it. */
export interface Attachment {
  key: string;
  name: string;
  size: number;
  file: FileRef | null;
}

/** A file waiting to be uploaded, and the message it is for. */
export interface WaitingUpload {
  clientMsgId: string;
  room: string;
  attachment: Attachment;
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
    const files = (pending.attachments ?? []).flatMap((a) => (a.file ? [a.file.id] : []));
    const send = { type: "send" as const, room: pending.room, body: pending.body, client_msg_id: pending.clientMsgId };
    return files.length > 0 ? { ...send, files } : send;
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

function validAttachments(saved: unknown): Attachment[] | undefined {
  if (!Array.isArray(saved)) return undefined;
  return saved.filter(
    (a: Partial<Attachment>): a is Attachment =>
      typeof a.key === "string" && typeof a.name === "string" && typeof a.size === "number",
  );
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
    const fresh = valid
      .filter((p) => !known.has(p.clientMsgId))
      .map((p): PendingMessage => {
        const { attachments, ...rest } = p;
        const kept = validAttachments(attachments);
        return kept ? { ...rest, failed: p.failed ?? null, attachments: kept } : { ...rest, failed: p.failed ?? null };
      });
    if (fresh.length > 0) this.set([...this.current, ...fresh]);
    return [...new Set(fresh.map((p) => p.room))];
  }

  /** A new message, with the files it carries (uploaded first); `failed` when no connection
   * will come to send it (said at once). Returns its id. */
  send(room: string, body: string, failed: string | null, attachments: Attachment[] = []): string {
    const clientMsgId = this.env.newId();
    const message: PendingMessage = { clientMsgId, room, body, ts: this.env.now(), failed };
    this.set([...this.current, attachments.length > 0 ? { ...message, attachments } : message]);
    this.flush();
    return clientMsgId;
  }

  /** Files waiting to be uploaded, in the order their messages were written (none of a
   * message that failed). */
  waitingUploads(): WaitingUpload[] {
    return this.current.flatMap((p) =>
      p.failed
        ? []
        : (p.attachments ?? []).flatMap((attachment) =>
            attachment.file ? [] : [{ clientMsgId: p.clientMsgId, room: p.room, attachment }],
          ),
    );
  }

  /** A file of the message is uploaded: once all are, the message goes. */
  uploaded(clientMsgId: string, key: string, file: FileRef): void {
    this.set(
      this.current.map((p) =>
        p.clientMsgId === clientMsgId && p.attachments
          ? { ...p, attachments: p.attachments.map((a) => (a.key === key ? { ...a, file } : a)) }
          : p,
      ),
    );
    this.flush();
  }

  /** A file of the message was refused for good: the message is not sent, and says why. */
  uploadFailed(clientMsgId: string, reason: string): void {
    this.set(this.current.map((p) => (p.clientMsgId === clientMsgId ? { ...p, failed: reason } : p)));
  }

  /** The user took a file off a message (cancelled its upload). A message left with nothing
   * to say is gone; returns whether it was. */
  removeAttachment(clientMsgId: string, key: string): boolean {
    const pending = this.current.find((p) => p.clientMsgId === clientMsgId);
    if (!pending) return false;
    const attachments = (pending.attachments ?? []).filter((a) => a.key !== key);
    if (attachments.length === 0 && !pending.body) {
      this.dismiss(clientMsgId);
      return true;
    }
    this.set(this.current.map((p) => (p === pending ? { ...p, attachments } : p)));
    this.flush();
    return false;
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
      if (pending.attachments?.some((a) => !a.file)) continue; // its files are still on their way
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

import { describe, expect, it, vi } from "vitest";

import { attentionCount, type Alert, type RoomSummary } from "../rooms/Directory";
import { mergeMessages, type HistoryPage } from "../rooms/RoomSubscription";
import { FakeUploads, settled } from "../test-data/fakeUploads";
import { fullJitterDelay } from "./backoff";
import { ChatClient, type ChatEnvironment, type WebSocketLike } from "./ChatClient";
import type { ChatMessage, ClientFrame } from "./protocol";

class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  sent: ClientFrame[] = [];

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(JSON.parse(data) as ClientFrame);
  }

  close(): void {
    this.readyState = 3;
  }

  // --- the server's side
  open(user = "alice"): void {
    this.readyState = 1;
    this.serve({ type: "hello", user, default_room: "general", max_message_bytes: 16384 });
  }

  serve(frame: object): void {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(frame) }));
  }

  drop(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code, reason }));
  }

  sends(): Extract<ClientFrame, { type: "send" }>[] {
    return this.sent.filter((f): f is Extract<ClientFrame, { type: "send" }> => f.type === "send");
  }
}

class FakeEnvironment extends FakeUploads implements ChatEnvironment {
  sockets: FakeSocket[] = [];
  randomValue = 0.5;
  history: (room: string, before: number, limit: number) => HistoryPage = (room) => ({ room, messages: [], has_more: false, has_newer: false });
  rooms: RoomSummary[] = [];
  alerts: Alert[] = [];

  createSocket(): WebSocketLike {
    const socket = new FakeSocket();
    this.sockets.push(socket);
    return socket;
  }
  random(): number {
    return this.randomValue;
  }
  fetchHistory(room: string, before: number, limit: number): Promise<HistoryPage> {
    return Promise.resolve(this.history(room, before, limit));
  }
  windows: (room: string, from: { around: number } | { after: number }, limit: number) => HistoryPage = (room) => ({
    room,
    messages: [],
    has_more: false,
    has_newer: false,
  });
  fetchWindow(room: string, from: { around: number } | { after: number }, limit: number): Promise<HistoryPage> {
    return Promise.resolve(this.windows(room, from, limit));
  }
  fetchRooms(): Promise<RoomSummary[]> {
    return Promise.resolve(this.rooms);
  }
  notify(alert: Alert): void {
    this.alerts.push(alert);
  }
  saved: string | null = null;
  loadOutbox(): string | null {
    return this.saved;
  }
  saveOutbox(value: string): void {
    this.saved = value;
  }
  drafts: string | null = null;
  loadDrafts(): string | null {
    return this.drafts;
  }
  saveDrafts(value: string): void {
    this.drafts = value;
  }
  profiles: unknown[] = [];
  profileChanged(frame: unknown): void {
    this.profiles.push(frame);
  }
  get socket(): FakeSocket {
    const socket = this.sockets[this.sockets.length - 1];
    if (!socket) throw new Error("no socket yet");
    return socket;
  }
}

function message(seq: number, body = `m${seq}`, room = "general", clientMsgId: string | null = null): ChatMessage {
  return {
    type: "message",
    room,
    seq,
    id: `uuid-${seq}`,
    author: "bob",
    body,
    ts: 1_700_000_000_000 + seq,
    client_msg_id: clientMsgId,
    client_id: null,
    mentions: [],
    bot: false,
    edited_at: null,
    deleted: false,
    reactions: [],
    change: 0,
    files: [],
  };
}

function connected(): { env: FakeEnvironment; client: ChatClient } {
  const env = new FakeEnvironment();
  const client = new ChatClient("ws://test/api/ws", env);
  client.start();
  client.join("general");
  env.socket.open();
  env.socket.serve({ type: "joined", room: "general", head: 0, from: 0, truncated: false, users: ["alice"], changes: 0 });
  return { env, client };
}

describe("fullJitterDelay", () => {
  it("grows exponentially up to the cap and is uniformly spread below it", () => {
    expect(fullJitterDelay(0, 500, 30_000, () => 0.999)).toBe(499);
    expect(fullJitterDelay(3, 500, 30_000, () => 0.999)).toBe(3996);
    expect(fullJitterDelay(20, 500, 30_000, () => 0.999)).toBe(29_970);
    expect(fullJitterDelay(5, 500, 30_000, () => 0)).toBe(0);
    for (let attempt = 0; attempt < 12; attempt++) {
      const delay = fullJitterDelay(attempt);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(30_000, 500 * 2 ** attempt));
    }
  });
});

describe("ChatClient reconnect", () => {
  it("reconnects with growing jittered delays and resets after a good connection", () => {
    const { env, client } = connected();
    env.randomValue = 0.999;
    env.socket.drop(1006);
    expect(client.getSnapshot().status).toBe("reconnecting");
    const ceilings = [500, 1000, 2000, 4000];
    for (const ceiling of ceilings) {
      const delay = env.delays[env.delays.length - 1] ?? -1;
      expect(delay).toBe(Math.floor(0.999 * ceiling));
      const before = env.sockets.length;
      env.advance(delay);
      expect(env.sockets.length).toBe(before + 1);
      env.socket.drop(1006);
    }
    env.advance(env.delays[env.delays.length - 1] ?? 0);
    env.socket.open();
    expect(client.getSnapshot().status).toBe("connected");
    expect(client.getSnapshot().reconnectAttempt).toBe(0);
  });

  it("does not retry after a terminal close and says why", () => {
    const { env, client } = connected();
    env.socket.drop(4401, "session has expired or was logged out");
    const before = env.sockets.length;
    env.advance(60_000);
    expect(env.sockets.length).toBe(before);
    expect(client.getSnapshot().status).toBe("closed");
    expect(client.getSnapshot().fatal?.code).toBe(4401);
    expect(client.getSnapshot().fatal?.text).toContain("session has expired");
  });

  it("goes offline when the browser says so and retries at once when back", () => {
    const { env, client } = connected();
    client.setOnline(false);
    env.socket.drop(1006);
    expect(client.getSnapshot().status).toBe("offline");
    const before = env.sockets.length;
    client.setOnline(true);
    expect(env.sockets.length).toBe(before + 1);
  });
});

describe("ChatClient resume", () => {
  it("rejoins every open room after the last sequence seen", () => {
    const { env } = connected();
    env.socket.serve(message(1));
    env.socket.serve(message(2));
    env.socket.drop(1012);
    env.advance(30_000);
    env.socket.open();
    expect(env.socket.sent).toContainEqual({ type: "join", room: "general", after: 2, changes_after: 0 });
  });

  it("asks again for a room whose join was rate limited, when the server says", () => {
    const env = new FakeEnvironment();
    const client = new ChatClient("ws://x", env);
    client.start();
    client.join("general");
    env.socket.open();
    env.socket.serve({ type: "error", code: "rate_limited", message: "too many joins", ref: null, retry_after: 0.5, room: "general" });
    expect(client.getSnapshot().notice).toBeNull();
    env.advance(499);
    expect(env.socket.sent).toEqual([{ type: "join", room: "general" }]);
    env.advance(1);
    expect(env.socket.sent).toEqual([{ type: "join", room: "general" }, { type: "join", room: "general" }]);
  });

  it("joins without a cursor on a first visit and knows older history exists", () => {
    const env = new FakeEnvironment();
    const client = new ChatClient("ws://x", env);
    client.start();
    client.join("general");
    env.socket.open();
    expect(env.socket.sent).toEqual([{ type: "join", room: "general" }]);
    env.socket.serve({ type: "joined", room: "general", head: 80, from: 30, truncated: false, users: [], changes: 0 });
    expect(client.getSnapshot().rooms.general?.hasOlder).toBe(true);
  });

  it("pages older history in and keeps order", async () => {
    const { env, client } = connected();
    env.socket.serve({ type: "joined", room: "general", head: 60, from: 50, truncated: false, users: [], changes: 0 });
    for (let seq = 51; seq <= 60; seq++) env.socket.serve(message(seq));
    env.history = (room, before, limit) => ({
      room,
      messages: Array.from({ length: limit }, (_, i) => message(before - limit + i)),
      has_more: true,
      has_newer: false,
    });
    await client.loadOlder("general", 5);
    const seqs = client.getSnapshot().rooms.general!.messages.map((m) => m.seq);
    expect(seqs).toEqual([46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60]);
  });
});

describe("ChatClient dedupe", () => {
  it("keeps each sequence number once, in order, whatever order frames come in", () => {
    const { env, client } = connected();
    for (const seq of [1, 2, 2, 4, 3, 1, 5]) env.socket.serve(message(seq));
    const seqs = client.getSnapshot().rooms.general!.messages.map((m) => m.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(client.getSnapshot().rooms.general!.cursor).toBe(5);
  });

  it("mergeMessages returns the same array when nothing is new", () => {
    const list = [message(1), message(2)];
    expect(mergeMessages(list, [message(2)])).toBe(list);
  });
});

describe("ChatClient outbox", () => {
  it("queues messages typed while offline and sends each once after reconnect", () => {
    const { env, client } = connected();
    env.socket.drop(1006);
    client.send("general", "typed offline 1");
    client.send("general", "typed offline 2");
    expect(client.getSnapshot().outbox.map((p) => p.body)).toEqual(["typed offline 1", "typed offline 2"]);
    env.advance(30_000);
    env.socket.open();
    expect(env.socket.sends()).toEqual([]); // not before the room is joined again
    env.socket.serve({ type: "joined", room: "general", head: 0, from: 0, truncated: false, users: [], changes: 0 });
    env.socket.serve({ type: "joined", room: "general", head: 0, from: 0, truncated: false, users: [], changes: 0 });
    expect(env.socket.sends().map((f) => f.body)).toEqual(["typed offline 1", "typed offline 2"]);
    const [first, second] = env.socket.sends();
    env.socket.serve({ type: "ack", room: "general", client_msg_id: first!.client_msg_id, seq: 1, id: "a", ts: 1, duplicate: false });
    env.socket.serve({ type: "ack", room: "general", client_msg_id: second!.client_msg_id, seq: 2, id: "b", ts: 1, duplicate: false });
    expect(client.getSnapshot().outbox).toEqual([]);
  });

  it("resends an unacknowledged message with the same id after a drop", () => {
    const { env, client } = connected();
    client.send("general", "maybe stored");
    const [sent] = env.socket.sends();
    env.socket.drop(1006);
    env.advance(30_000);
    env.socket.open();
    env.socket.serve({ type: "joined", room: "general", head: 1, from: 0, truncated: false, users: [], changes: 0 });
    const [resent] = env.socket.sends();
    expect(resent).toEqual(sent);
    env.socket.serve({ type: "ack", room: "general", client_msg_id: sent!.client_msg_id, seq: 1, id: "a", ts: 1, duplicate: true });
    expect(client.getSnapshot().outbox).toEqual([]);
  });

  it("waits out a rate limit, then resends the same message", () => {
    const { env, client } = connected();
    client.send("general", "slow down");
    const [sent] = env.socket.sends();
    env.socket.serve({ type: "error", code: "rate_limited", message: "slow", ref: sent!.client_msg_id, retry_after: 0.5 });
    env.advance(499);
    expect(env.socket.sends()).toHaveLength(1);
    env.advance(1);
    expect(env.socket.sends()).toHaveLength(2);
    expect(env.socket.sends()[1]).toEqual(sent);
  });

  it("marks a message the server refuses for good as failed and does not resend it", () => {
    const { env, client } = connected();
    client.send("general", "x".repeat(10));
    const [sent] = env.socket.sends();
    env.socket.serve({ type: "error", code: "too_large", message: "message body is too large", ref: sent!.client_msg_id });
    env.advance(60_000);
    expect(env.socket.sends()).toHaveLength(1);
    expect(client.getSnapshot().outbox[0]?.failed).toBe("message body is too large");
    client.dismiss(sent!.client_msg_id!);
    expect(client.getSnapshot().outbox).toEqual([]);
  });
});

describe("ChatClient edits, deletes and reactions", () => {
  const changes = (env: FakeEnvironment) => env.socket.sent.filter((f) => ["edit", "delete", "react"].includes(f.type));
  const body = (client: ChatClient, seq: number) => client.getSnapshot().rooms.general?.messages.find((m) => m.seq === seq);

  it("applies each change once, the newest winning whatever the order, and resumes after the last", () => {
    const { env, client } = connected();
    env.socket.serve(message(1));
    env.socket.serve(message(2));
    env.socket.serve({ type: "message_updated", room: "general", id: "uuid-1", seq: 1, body: "second edit", edited_at: 5, change: 4 });
    // An older edit arriving late (a catch-up overlapping the live feed) changes nothing.
    env.socket.serve({ type: "message_updated", room: "general", id: "uuid-1", seq: 1, body: "first edit", edited_at: 3, change: 2 });
    expect(body(client, 1)).toMatchObject({ body: "second edit", edited_at: 5, change: 4 });
    const reactions = [{ emoji: "🎉", count: 2, users: ["alice", "bob"] }];
    env.socket.serve({ type: "reactions", room: "general", id: "uuid-1", seq: 1, reactions, change: 5 });
    expect(body(client, 1)).toMatchObject({ body: "second edit", reactions, change: 5 });
    env.socket.serve({ type: "message_deleted", room: "general", id: "uuid-2", seq: 2, change: 6 });
    expect(body(client, 2)).toMatchObject({ body: "", deleted: true, reactions: [], change: 6 });
    // A change to a message not held here moves the cursor all the same.
    env.socket.serve({ type: "reactions", room: "general", id: "uuid-0", seq: 0, reactions, change: 7 });
    env.socket.drop(1012);
    env.advance(30_000);
    env.socket.open();
    expect(env.socket.sent).toContainEqual({ type: "join", room: "general", after: 2, changes_after: 7 });
    // History paged in later, fresher than the copy here, replaces it; an older one does not.
    expect(mergeMessages([{ ...message(1), change: 3 }], [{ ...message(1, "newer"), change: 4 }])[0]?.body).toBe("newer");
    expect(mergeMessages([{ ...message(1), change: 4 }], [{ ...message(1, "older"), change: 3 }])[0]?.body).toBe("m1");
  });

  it("keeps changes made offline and sends them once, in order, after the room is joined again", () => {
    const { env, client } = connected();
    env.socket.serve(message(1));
    env.socket.drop(1006);
    client.edit("general", "uuid-1", "fixed typo");
    client.react("general", "uuid-1", "👍", true);
    client.remove("general", "uuid-1");
    expect(client.getSnapshot().outbox.map((p) => p.kind)).toEqual(["edit", "react", "delete"]);
    env.advance(30_000);
    env.socket.open();
    expect(changes(env)).toEqual([]); // not before the join
    env.socket.serve({ type: "joined", room: "general", head: 1, from: 1, truncated: false, users: [], changes: 0 });
    const sent = changes(env);
    expect(sent.map((f) => f.type)).toEqual(["edit", "react", "delete"]);
    expect(sent[0]).toMatchObject({ room: "general", id: "uuid-1", body: "fixed typo" });
    expect(sent[1]).toMatchObject({ id: "uuid-1", emoji: "👍", on: true });
    const refs = sent.map((f) => ("ref" in f ? f.ref : null));
    expect(new Set(refs).size).toBe(3);
    env.socket.serve({ type: "applied", ref: refs[0], room: "general", id: "uuid-1", change: 1 });
    env.socket.serve({ type: "applied", ref: refs[1], room: "general", id: "uuid-1", change: null });
    // The delete was stored, but the answer was lost with the connection: sent again, the
    // server says it is gone, which is what was asked.
    env.socket.drop(1006);
    env.advance(30_000);
    env.socket.open();
    env.socket.serve({ type: "joined", room: "general", head: 1, from: 1, truncated: false, users: [], changes: 3 });
    const again = changes(env);
    expect(again.map((f) => f.type)).toEqual(["delete"]);
    env.socket.serve({ type: "error", code: "unknown_message", message: "no message", ref: "ref" in again[0]! ? again[0].ref : null, room: "general" });
    expect(client.getSnapshot().outbox).toEqual([]);
    expect(client.getSnapshot().notice).toBeNull();
  });

  it("says why a change was refused and lets it go; a reaction toggled back before it went is not sent", () => {
    const { env, client } = connected();
    env.socket.serve(message(1));
    client.edit("general", "uuid-1", "not mine");
    const [edit] = changes(env);
    env.socket.serve({ type: "error", code: "forbidden", message: "only its author may edit a message", ref: edit && "ref" in edit ? edit.ref : null, room: "general" });
    expect(client.getSnapshot().outbox).toEqual([]);
    expect(client.getSnapshot().notice).toBe("Could not edit the message: only its author may edit a message");
    env.socket.drop(1006);
    client.react("general", "uuid-1", "🎉", true);
    client.react("general", "uuid-1", "🎉", false);
    expect(client.getSnapshot().outbox).toEqual([]);
  });
});

describe("ChatClient outbox across reloads", () => {
  it("keeps what waits in storage and sends it, once, from the next page", () => {
    const { env, client } = connected();
    env.socket.drop(1006);
    client.send("general", "written offline");
    client.stop();
    const [waiting] = JSON.parse(env.saved ?? "[]") as { clientMsgId: string; body: string }[];
    expect(waiting?.body).toBe("written offline");

    const next = new FakeEnvironment();
    next.saved = env.saved;
    const reloaded = new ChatClient("ws://test/api/ws", next);
    reloaded.start();
    next.socket.open();
    // Its room is joined even though the page has not opened it yet, so that it can be sent.
    expect(next.socket.sent).toContainEqual({ type: "join", room: "general" });
    next.socket.serve({ type: "joined", room: "general", head: 0, from: 0, truncated: false, users: [], changes: 0 });
    expect(next.socket.sends()).toEqual([
      { type: "send", room: "general", body: "written offline", client_msg_id: waiting!.clientMsgId },
    ]);
    next.socket.serve({ type: "ack", room: "general", client_msg_id: waiting!.clientMsgId, seq: 1, id: "a", ts: 1, duplicate: false });
    expect(JSON.parse(next.saved ?? "null")).toEqual([]);
  });

  it("ignores storage it cannot read", () => {
    const env = new FakeEnvironment();
    env.saved = '{"not": "a list"';
    const client = new ChatClient("ws://test/api/ws", env);
    client.start();
    expect(client.getSnapshot().outbox).toEqual([]);
    env.saved = JSON.stringify([{ clientMsgId: 7, room: "general", body: "x" }, "junk"]);
    const other = new ChatClient("ws://test/api/ws", env);
    other.start();
    expect(other.getSnapshot().outbox).toEqual([]);
  });

  it("fails a message at once when no connection will come, instead of queueing it", () => {
    const { env, client } = connected();
    env.socket.drop(4429, "too many connections for this user");
    client.send("general", "into the void");
    expect(client.getSnapshot().outbox[0]?.failed).toMatch(/tabs/i);
    env.advance(60_000);
    expect(env.sockets).toHaveLength(1); // and nothing reconnects behind the user's back
    client.reconnectNow(); // "Use here"
    expect(env.sockets).toHaveLength(2);
  });

  it("sends a message stranded in a lost room to another room, with the same id", () => {
    const { env, client } = connected();
    client.join("ops");
    env.socket.serve({ type: "joined", room: "ops", head: 0, from: 0, truncated: false, users: [], changes: 0 });
    client.send("ops", "for ops");
    const [sent] = env.socket.sends();
    env.socket.serve({ type: "removed", room: "ops", reason: "removed" });
    expect(client.getSnapshot().lostRooms).toEqual([{ room: "ops", why: "removed", rejoinable: false }]);
    expect(client.getSnapshot().outbox[0]?.failed).toMatch(/no longer in this room/);
    client.retry(sent!.client_msg_id!, "general");
    expect(env.socket.sends()[1]).toEqual({ ...sent, room: "general" });
  });
});

describe("ChatClient presence and typing", () => {
  it("tracks who is online and shows typing for a few seconds", () => {
    const { env, client } = connected();
    env.socket.serve({ type: "presence", room: "general", joined: ["bob"], left: [] });
    expect(client.getSnapshot().rooms.general!.users).toEqual(["alice", "bob"]);
    env.socket.serve({ type: "typing", room: "general", user: "bob" });
    expect(Object.keys(client.getSnapshot().rooms.general!.typing)).toEqual(["bob"]);
    env.advance(5000);
    expect(client.getSnapshot().rooms.general!.typing).toEqual({});
    env.socket.serve({ type: "presence", room: "general", joined: [], left: ["bob"] });
    expect(client.getSnapshot().rooms.general!.users).toEqual(["alice"]);
    expect(client.getSnapshot().rooms.general!.notices.map((n) => n.text)).toEqual(["bob joined", "bob left"]);
  });

  it("throttles its own typing notices", () => {
    const { env, client } = connected();
    client.typing("general");
    client.typing("general");
    env.advance(2000);
    client.typing("general");
    expect(env.socket.sent.filter((f) => f.type === "typing")).toHaveLength(2);
  });
});

describe("ChatClient rooms", () => {
  it("lists a room it was added to, updates it, and forgets one it was removed from", () => {
    const { env, client } = connected();
    env.socket.serve({
      type: "room_added",
      room: "vault",
      visibility: "private",
      topic: "plans",
      owner: "olga",
      members: [],
    });
    expect(client.getSnapshot().directory.vault).toMatchObject({ visibility: "private", topic: "plans" });
    env.socket.serve({ type: "room_updated", room: "vault", topic: "new plans", archived: true });
    expect(client.getSnapshot().directory.vault).toMatchObject({ topic: "new plans", archived: true });

    client.join("vault");
    env.socket.serve({ type: "joined", room: "vault", head: 1, from: 0, truncated: false, users: ["alice"], changes: 0 });
    env.socket.serve(message(1, "secret", "vault"));
    env.socket.serve({ type: "removed", room: "vault", reason: "removed" });
    const after = client.getSnapshot();
    expect(after.directory.vault).toBeUndefined();
    expect(after.rooms.vault).toBeUndefined();
    expect(after.lostRooms).toEqual([{ room: "vault", why: "removed", rejoinable: false }]);
    // Not rejoined on the next connection: the room is gone for this user.
    env.socket.drop(1012);
    env.advance(60_000);
    env.socket.open();
    expect(env.socket.sent.filter((f) => f.type === "join").map((f) => f.room)).toEqual(["general"]);
    client.acknowledgeLostRooms();
    expect(client.getSnapshot().lostRooms).toEqual([]);
  });

  it("bumps a room's member version when its members change, and leaving says nothing", () => {
    const { env, client } = connected();
    env.socket.serve({ type: "members", room: "general", added: ["bob"], removed: [] });
    expect(client.getSnapshot().rooms.general!.membersVersion).toBe(1);
    env.socket.serve({ type: "removed", room: "general", reason: "left" });
    expect(client.getSnapshot().lostRooms).toEqual([]);
  });
});

function summary(name: string, extra: Partial<RoomSummary> = {}): RoomSummary {
  return {
    name,
    head: 0,
    visibility: "public",
    topic: "",
    owner: null,
    archived: false,
    member: true,
    member_count: 1,
    members: [],
    last_read: 0,
    unread: 0,
    mentions: 0,
    ...extra,
  };
}

function mention(seq: number, room: string, mentions: string[], author = "bob"): ChatMessage {
  return { ...message(seq, `m${seq}`, room), author, mentions };
}

describe("ChatClient unread and mentions", () => {
  it("starts from the server's counts and adds what arrives, each message once", async () => {
    const { env, client } = connected();
    env.rooms = [summary("general", { head: 0 }), summary("ops", { head: 4, last_read: 2, unread: 2, mentions: 1 })];
    await client.refreshDirectory();
    expect(client.getSnapshot().directory.ops).toMatchObject({ unread: 2, mentions: 1 });
    // Not joined on this connection: the server sends counts, never bodies.
    env.socket.serve({ type: "unread", room: "ops", seq: 6, count: 2, mentions: 1 });
    env.socket.serve({ type: "unread", room: "ops", seq: 6, count: 2, mentions: 1 }); // the same again
    expect(client.getSnapshot().directory.ops).toMatchObject({ unread: 4, mentions: 2 });
    // Joined: messages are counted as they come, not the user's own, not twice.
    env.socket.serve(mention(1, "general", ["alice"]));
    env.socket.serve(mention(1, "general", ["alice"]));
    env.socket.serve(mention(2, "general", [], "alice"));
    env.socket.serve(mention(3, "general", ["@room"]));
    expect(client.getSnapshot().directory.general).toMatchObject({ unread: 2, mentions: 2 });
    expect(env.alerts.map((a) => [a.room, a.mention])).toEqual([
      ["ops", true],
      ["general", true],
      ["general", true],
    ]);
  });

  it("reading sends the position, clears what was read, and follows other tabs", async () => {
    const { env, client } = connected();
    env.rooms = [summary("general", { head: 0 })];
    await client.refreshDirectory();
    for (const seq of [1, 2, 3]) env.socket.serve(mention(seq, "general", seq === 3 ? ["alice"] : []));
    client.markRead("general", 2);
    expect(env.socket.sent.filter((f) => f.type === "read")).toEqual([{ type: "read", room: "general", seq: 2 }]);
    expect(client.getSnapshot().directory.general).toMatchObject({ lastRead: 2, unread: 1, mentions: 1 });
    client.markRead("general", 1); // never backwards
    expect(env.socket.sent.filter((f) => f.type === "read")).toHaveLength(1);
    env.socket.serve({ type: "read", room: "general", seq: 3 }); // another tab read the rest
    expect(client.getSnapshot().directory.general).toMatchObject({ lastRead: 3, unread: 0, mentions: 0 });
  });

  it("keeps reads made while offline and sends them on the next connection, then counts afresh", async () => {
    const { env, client } = connected();
    env.rooms = [summary("general", { head: 5, unread: 5 })];
    await client.refreshDirectory();
    env.socket.drop(1006);
    client.markRead("general", 5);
    expect(client.getSnapshot().directory.general).toMatchObject({ unread: 0 });
    env.rooms = [summary("general", { head: 7, last_read: 5, unread: 2 })];
    env.advance(60_000);
    env.socket.open();
    await Promise.resolve();
    expect(env.socket.sent.filter((f) => f.type === "read")).toEqual([{ type: "read", room: "general", seq: 5 }]);
    expect(client.getSnapshot().directory.general).toMatchObject({ unread: 2 });
  });

  it("a list answered after frames that came while it was read keeps them", async () => {
    const { env, client } = connected();
    // Every list asked for, answered in turn (the room out of the archive, unknown here yet,
    // asks for one more).
    const answers: ((rooms: RoomSummary[]) => void)[] = [];
    const answer = (rooms: RoomSummary[]) => answers.shift()?.(rooms);
    env.fetchRooms = () => new Promise((resolve) => answers.push(resolve));
    const refreshed = client.refreshDirectory();
    // The server read the list (ops up to seq 4, and no "fresh" yet), then these went out.
    env.socket.serve({ type: "room_added", room: "fresh", visibility: "private", topic: "", owner: "alice", members: [] });
    env.socket.serve({ type: "unread", room: "fresh", seq: 3, count: 3, mentions: 0 });
    env.socket.serve({ type: "unread", room: "ops", seq: 4, count: 4, mentions: 0 }); // in the list already
    env.socket.serve({ type: "unread", room: "ops", seq: 6, count: 2, mentions: 1 });
    env.socket.serve({ type: "room_updated", room: "ops", topic: "back", archived: false, owner: null }); // out of the archive
    answer([summary("general"), summary("ops", { head: 4, unread: 4, archived: true })]);
    await refreshed;
    const rooms = client.getSnapshot().directory;
    expect(rooms.fresh).toMatchObject({ member: true, unread: 3 });
    expect(rooms.ops).toMatchObject({ archived: false, topic: "back" });
    expect(rooms.ops).toMatchObject({ unread: 6, mentions: 1, countedUpTo: 6 });
    // The lists asked for since were read after every frame above: they stand as they are.
    const read = { head: 6, last_read: 0, unread: 6, mentions: 1 };
    while (answers.length > 0) {
      answer([summary("general"), summary("fresh", { head: 3, unread: 3 }), summary("ops", { ...read, topic: "back" })]);
    }
    await vi.waitFor(() => {
      expect(client.getSnapshot().directory.fresh).toMatchObject({ member: true, unread: 3 });
    });
    expect(client.getSnapshot().directory.ops).toMatchObject({ archived: false, topic: "back", unread: 6, mentions: 1 });
    // Once answered, nothing more is kept for it: a later list stands as it is.
    env.socket.serve({ type: "unread", room: "ops", seq: 7, count: 1, mentions: 0 });
    env.fetchRooms = () => Promise.resolve([summary("general"), summary("ops", { head: 7, unread: 7 })]);
    await client.refreshDirectory();
    expect(client.getSnapshot().directory.ops).toMatchObject({ unread: 7 });
    expect(client.getSnapshot().directory.fresh).toBeUndefined();
  });

  it("a room out of the archive comes back though the list it was left out of is already here", async () => {
    const { env, client } = connected();
    env.rooms = [summary("general")]; // read while "ops" was archived: the list leaves it out
    await client.refreshDirectory();
    expect(client.getSnapshot().directory.ops).toBeUndefined();
    env.rooms = [summary("general"), summary("ops", { head: 4, unread: 1 })];
    env.socket.serve({ type: "room_updated", room: "ops", topic: "back", archived: false, owner: null });
    await vi.waitFor(() => {
      expect(client.getSnapshot().directory.ops).toMatchObject({ archived: false, unread: 1 });
    });
    // Into the archive, unknown here: nothing to fetch.
    let fetches = 0;
    env.fetchRooms = () => {
      fetches += 1;
      return Promise.resolve([]);
    };
    env.socket.serve({ type: "room_updated", room: "attic", topic: "", archived: true, owner: null });
    expect(fetches).toBe(0);
  });

  it("a room out of the archive while a list read before is on its way is fetched again", async () => {
    const { env, client } = connected();
    env.rooms = [summary("general"), summary("ops")];
    await client.refreshDirectory();
    env.socket.serve({ type: "room_updated", room: "ops", topic: "", archived: true, owner: null });
    let answer: (rooms: RoomSummary[]) => void = () => undefined;
    env.fetchRooms = () => new Promise((resolve) => (answer = resolve));
    const refreshed = client.refreshDirectory(); // the server reads it while "ops" is archived
    env.socket.serve({ type: "room_updated", room: "ops", topic: "", archived: false, owner: null });
    expect(client.getSnapshot().directory.ops).toMatchObject({ archived: false });
    env.fetchRooms = () => Promise.resolve([summary("general"), summary("ops", { unread: 2 })]);
    answer([summary("general")]);
    await refreshed;
    await vi.waitFor(() => {
      expect(client.getSnapshot().directory.ops).toMatchObject({ archived: false, unread: 2 });
    });
  });

  it("counts every unread direct message for the title, and mentions elsewhere", async () => {
    const { client, env } = connected();
    env.rooms = [summary("general", { unread: 9, mentions: 1 }), summary("dm-1", { visibility: "dm", unread: 2 })];
    await client.refreshDirectory();
    expect(attentionCount(client.getSnapshot().directory)).toBe(3);
  });
});

describe("ChatClient read marks", () => {
  it("marks where reading stopped each time a room is opened, and nothing new in a room just joined", async () => {
    const { env, client } = connected();
    env.rooms = [summary("general", { head: 3, last_read: 1, unread: 2 }), summary("town", { member: false, head: 9 })];
    await client.refreshDirectory();
    client.join("general");
    expect(client.getSnapshot().rooms.general!.readMark).toBe(1);
    client.markRead("general", 3);
    // Opening another room: the first forgets its mark, to work it out when opened again.
    client.join("town");
    expect(client.getSnapshot().rooms.general!.readMark).toBeNull();
    expect(client.getSnapshot().rooms.town!.readMark).toBeNull(); // not a member: known once joined
    env.socket.serve({ type: "joined", room: "town", head: 9, from: 0, truncated: false, users: [], changes: 0 });
    expect(client.getSnapshot().rooms.town!.readMark).toBe(9);
    expect(client.getSnapshot().directory.town).toMatchObject({ member: true });
    client.join("general");
    expect(client.getSnapshot().rooms.general!.readMark).toBe(3);
  });

  it("a room joined since the list came asks the server where reading stopped", async () => {
    const { env, client } = connected();
    client.join("town");
    // The server tells every tab of a new membership, maybe before it answers the join.
    env.socket.serve({ type: "room_added", room: "town", visibility: "public", topic: "", owner: "olga", members: [] });
    env.rooms = [summary("general"), summary("town", { head: 30, last_read: 30 })];
    env.socket.serve({ type: "joined", room: "town", head: 30, from: 0, truncated: false, users: [], changes: 0 });
    expect(client.getSnapshot().rooms.town!.readMark).toBeNull();
    await Promise.resolve();
    expect(client.getSnapshot().rooms.town!.readMark).toBe(30);
  });

  it("new is what was there when the room was opened, or came while the connection was down", async () => {
    const { env, client } = connected();
    env.rooms = [summary("general", { head: 2, last_read: 1, unread: 1 })];
    await client.refreshDirectory();
    client.join("general");
    expect(client.getSnapshot().rooms.general).toMatchObject({ readMark: 1, unreadUpTo: 2 });
    env.socket.serve(message(3)); // while the user looks: not "new"
    expect(client.getSnapshot().rooms.general!.unreadUpTo).toBe(2);
    env.socket.drop(1006);
    env.advance(60_000);
    env.socket.open();
    env.socket.serve({ type: "joined", room: "general", head: 6, from: 3, truncated: false, users: [], changes: 0 });
    expect(client.getSnapshot().rooms.general!.unreadUpTo).toBe(6); // came while away
  });

  it("a member who never read has everything new (read mark 0)", async () => {
    const { env, client } = connected();
    env.rooms = [summary("general", { head: 200, last_read: 0, unread: 200 })];
    await client.refreshDirectory();
    client.join("general");
    expect(client.getSnapshot().rooms.general!.readMark).toBe(0);
  });

  it("Esc marks everything known in the room read", async () => {
    const { env, client } = connected();
    env.rooms = [summary("general", { head: 0 })];
    await client.refreshDirectory();
    for (const seq of [1, 2]) env.socket.serve(message(seq));
    client.markAllRead("general");
    expect(env.socket.sent.filter((f) => f.type === "read")).toEqual([{ type: "read", room: "general", seq: 2 }]);
  });
});

describe("ChatClient drafts", () => {
  it("keeps a draft per room across reloads, and says which rooms have one", () => {
    const { env, client } = connected();
    client.setDraft("general", "> quoted\n\nhalf a thought");
    client.setDraft("ops", "for ops");
    expect(client.getSnapshot().rooms.ops?.hasDraft).toBe(true);
    client.setDraft("ops", "");
    expect(client.getSnapshot().rooms.ops?.hasDraft).toBe(false);
    client.stop();
    const next = new FakeEnvironment();
    next.drafts = env.drafts;
    const reloaded = new ChatClient("ws://test/api/ws", next);
    reloaded.start();
    expect(reloaded.draftOf("general")).toBe("> quoted\n\nhalf a thought");
    expect(reloaded.getSnapshot().rooms.general?.hasDraft).toBe(true);
    expect(reloaded.draftOf("ops")).toBe("");
    next.drafts = "not json";
    expect(() => {
      new ChatClient("ws://x", next).start();
    }).not.toThrow();
  });
});

describe("ChatClient leaving", () => {
  it("keeps a public room the user left, to browse, and says a public room can be rejoined", async () => {
    const { env, client } = connected();
    env.rooms = [summary("general"), summary("town"), summary("vault", { visibility: "private" })];
    await client.refreshDirectory();
    client.join("town");
    env.socket.serve({ type: "joined", room: "town", head: 0, from: 0, truncated: false, users: [], changes: 0 });
    env.socket.serve({ type: "removed", room: "town", reason: "left" });
    expect(client.getSnapshot().directory.town).toMatchObject({ member: false });
    expect(client.getSnapshot().rooms.town).toBeUndefined();
    expect(client.getSnapshot().lostRooms).toEqual([]);
    env.socket.serve({ type: "removed", room: "vault", reason: "left" }); // from another tab
    expect(client.getSnapshot().directory.vault).toBeUndefined();
    client.join("town");
    env.socket.serve({ type: "joined", room: "town", head: 0, from: 0, truncated: false, users: [], changes: 0 });
    env.socket.serve({ type: "removed", room: "town", reason: "removed" });
    expect(client.getSnapshot().lostRooms).toEqual([{ room: "town", why: "removed", rejoinable: true }]);
  });
});

describe("ChatClient and files", () => {
  it("uploads a message's files when connected, sends the message with them, and forgets their bytes once acked", async () => {
    const env = new FakeEnvironment();
    const client = new ChatClient("ws://test/api/ws", env);
    client.start();
    client.join("general");
    // Written while offline: it waits in the outbox, its file with it.
    client.send("general", "look", [new File(["pixels"], "shot.png", { type: "image/png" })]);
    expect(env.uploads).toEqual([]);
    const waiting = client.getSnapshot().outbox[0]!;
    expect(waiting.attachments?.map((a) => [a.name, a.size, a.file])).toEqual([["shot.png", 6, null]]);
    env.socket.open();
    env.socket.serve({ type: "joined", room: "general", head: 0, from: 0, truncated: false, users: ["alice"], changes: 0 });
    expect(env.uploads.map((u) => [u.room, u.name])).toEqual([["general", "shot.png"]]);
    env.last.onProgress(3, 6);
    expect(Object.values(client.getSnapshot().uploads)).toEqual([0.5]);
    const file = env.last.succeed("abc");
    await settled();
    expect(env.socket.sends()).toEqual([
      { type: "send", room: "general", body: "look", client_msg_id: waiting.clientMsgId, files: [file.id] },
    ]);
    expect(env.stored.size).toBe(1);
    env.socket.serve({ type: "ack", room: "general", client_msg_id: waiting.clientMsgId, seq: 1, id: "m1", ts: 1, duplicate: false });
    expect(client.getSnapshot().outbox).toEqual([]);
    expect(env.stored.size).toBe(0);
  });

  it("cancelling a file stops its upload; a message left with nothing is gone", () => {
    const { env, client } = connected();
    client.send("general", "", [new File(["a"], "a.txt"), new File(["b"], "b.txt")]);
    const [first, second] = client.getSnapshot().outbox[0]!.attachments!;
    client.cancelAttachment(client.getSnapshot().outbox[0]!.clientMsgId, first!.key);
    expect(env.uploads[0]!.aborted).toBe(true);
    expect(env.last.name).toBe("b.txt");
    client.cancelAttachment(client.getSnapshot().outbox[0]!.clientMsgId, second!.key);
    expect(client.getSnapshot().outbox).toEqual([]);
    expect(env.socket.sends()).toEqual([]);
  });
});

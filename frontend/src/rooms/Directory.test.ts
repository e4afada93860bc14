import { describe, expect, it } from "vitest";

import type { ChatMessage } from "../socket/protocol";
import { attentionCount, Directory, metaOf, type RoomSummary } from "./Directory";

function summary(name: string, extra: Partial<RoomSummary> = {}): RoomSummary {
  return {
    name,
    head: 0,
    visibility: "public",
    topic: "",
    owner: null,
    archived: false,
    member: true,
    member_count: 2,
    members: [],
    last_read: 0,
    unread: 0,
    mentions: 0,
    ...extra,
  };
}

function message(seq: number, room: string, author = "bob", mentions: string[] = []): ChatMessage {
  return {
    type: "message",
    room,
    seq,
    id: `uuid-${seq}`,
    author,
    body: `m${seq}`,
    ts: seq,
    client_msg_id: null,
    client_id: null,
    mentions,
    bot: false,
    edited_at: null,
    deleted: false,
    reactions: [],
    change: 0,
    files: [],
  };
}

function directory(...rooms: RoomSummary[]): Directory {
  const made = new Directory(() => undefined);
  made.replace(rooms.map(metaOf));
  return made;
}

describe("Directory counts", () => {
  it("counts each message once, never the user's own, and says when to notify", () => {
    const rooms = directory(summary("general", { head: 2, last_read: 2 }), summary("dm-x", { visibility: "dm" }));
    expect(rooms.count(message(2, "general"), "alice", true)).toBeNull(); // counted by the list already
    expect(rooms.count(message(3, "general", "alice"), "alice", true)).toBeNull(); // own
    expect(rooms.count(message(4, "general", "bob", ["alice"]), "alice", true)).toMatchObject({ mention: true });
    expect(rooms.count(message(4, "general", "bob", ["alice"]), "alice", true)).toBeNull(); // again
    expect(rooms.count(message(1, "dm-x"), "alice", true)).toMatchObject({ room: "dm-x", author: "bob", body: "m1" });
    expect(rooms.get("general")).toMatchObject({ unread: 1, mentions: 1, countedUpTo: 4 });
    expect(attentionCount(rooms.rooms)).toBe(2); // the mention, and the unread DM
  });

  it("adds counts of rooms not joined here, once per seq", () => {
    const rooms = directory(summary("ops", { head: 4, unread: 2 }));
    const frame = { type: "unread", room: "ops", seq: 6, count: 2, mentions: 1 } as const;
    expect(rooms.onUnread(frame)).toMatchObject({ room: "ops", mention: true, body: null });
    expect(rooms.onUnread(frame)).toBeNull();
    expect(rooms.get("ops")).toMatchObject({ unread: 4, mentions: 1 });
  });

  it("reads clear what was read, recount from what is loaded, or ask for the list again", () => {
    const rooms = directory(summary("general"));
    const loaded = [1, 2, 3].map((seq) => message(seq, "general", "bob", seq === 3 ? ["alice"] : []));
    for (const m of loaded) rooms.count(m, "alice", false);
    expect(rooms.read("general", 2, loaded, "alice")).toBe(true);
    expect(rooms.get("general")).toMatchObject({ lastRead: 2, unread: 1, mentions: 1 });
    expect(rooms.read("general", 3, loaded, "alice")).toBe(true);
    expect(rooms.get("general")).toMatchObject({ unread: 0, mentions: 0 });
    const far = directory(summary("ops", { head: 90, unread: 90 }));
    expect(far.read("ops", 10, [], "alice")).toBe(false); // not loaded here: the server counts
  });
});

describe("Directory membership", () => {
  it("keeps a public room the user left, to browse; forgets a private one", () => {
    const rooms = directory(summary("town", { member_count: 3, unread: 2 }), summary("vault", { visibility: "private" }));
    rooms.leave("town");
    rooms.leave("vault");
    expect(rooms.get("town")).toMatchObject({ member: false, memberCount: 2, unread: 0 });
    expect(rooms.get("vault")).toBeUndefined();
    rooms.joined("town", 7);
    expect(rooms.get("town")).toMatchObject({ member: true, memberCount: 3, lastRead: 7 });
  });

  it("follows topic and archive changes, and keeps counts when a room is heard of again", () => {
    const rooms = directory(summary("town", { unread: 5 }));
    rooms.onRoomUpdated({ type: "room_updated", owner: null, room: "town", topic: "news", archived: true });
    expect(rooms.get("town")).toMatchObject({ topic: "news", archived: true, unread: 5 });
    rooms.add(metaOf(summary("town", { member: false, member_count: 0, topic: "again" })));
    expect(rooms.get("town")).toMatchObject({ topic: "again", unread: 5, member: true, memberCount: 2 });
    rooms.leave("town");
    rooms.add(metaOf(summary("town", { member: true })));
    expect(rooms.get("town")).toMatchObject({ member: true, lastRead: null }); // the next list says
  });
});

import { describe, expect, it } from "vitest";

import type { ChatMessage, ServerFrame } from "../socket/protocol";
import { applyPresence, mergeMessages, presenceNotices, RoomSubscription, type HistoryPage } from "./RoomSubscription";

function message(seq: number, author = "bob"): ChatMessage {
  return {
    type: "message",
    room: "general",
    seq,
    id: `uuid-${seq}`,
    author,
    body: `m${seq}`,
    ts: 1_700_000_000_000 + seq,
    client_msg_id: null,
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

function subscription(): { room: RoomSubscription; changes: () => number } {
  let count = 0;
  const room = new RoomSubscription("general", () => {
    count++;
  });
  return { room, changes: () => count };
}

const joined = (head: number, from: number, changes = 0): Extract<ServerFrame, { type: "joined" }> => ({
  type: "joined",
  room: "general",
  head,
  from,
  truncated: false,
  users: ["alice"],
  online: 1,
  changes,
});

describe("RoomSubscription joins", () => {
  it("joins without a cursor first, then resumes after the last message and change seen", () => {
    const { room } = subscription();
    expect(room.joinFrame()).toEqual({ type: "join", room: "general" });
    room.onJoined(joined(80, 30, 4));
    expect(room.view).toMatchObject({ joined: true, head: 80, hasOlder: true, cursor: 30, changes: 4 });
    room.onMessage(message(31));
    room.applyChange(31, 6, { body: "edited" });
    expect(room.joinFrame()).toEqual({ type: "join", room: "general", after: 31, changes_after: 6 });
    room.connectionLost();
    expect(room.view.joined).toBe(false);
    // A rejoin keeps what was there: the server sends only what came after.
    room.onJoined(joined(90, 31, 7));
    expect(room.view).toMatchObject({ cursor: 31, changes: 6, hasOlder: true });
  });
});

describe("RoomSubscription messages", () => {
  it("keeps each message once, in order, and the newest change of each", () => {
    const { room } = subscription();
    room.onJoined(joined(0, 0));
    for (const seq of [1, 3, 2, 3, 1]) room.onMessage(message(seq));
    expect(room.view.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    room.applyChange(2, 5, { body: "new" });
    room.applyChange(2, 4, { body: "older" }); // late, and older: ignored
    expect(room.view.messages[1]).toMatchObject({ body: "new", change: 5 });
    expect(room.view.changes).toBe(5);
  });

  it("pages older history in once at a time", async () => {
    const { room } = subscription();
    room.onJoined(joined(60, 50));
    for (let seq = 51; seq <= 60; seq++) room.onMessage(message(seq));
    const asked: number[] = [];
    const fetch = (before: number, limit: number): Promise<HistoryPage> => {
      asked.push(before);
      return Promise.resolve({
        room: "general",
        messages: Array.from({ length: limit }, (_, i) => message(before - limit + i)),
        has_more: false,
        has_newer: false,
      });
    };
    const first = room.loadOlder(fetch, 5);
    void room.loadOlder(fetch, 5); // already loading: no second request
    await first;
    expect(asked).toEqual([51]);
    expect(room.view.messages[0]?.seq).toBe(46);
    expect(room.view).toMatchObject({ hasOlder: false, loadingOlder: false });
  });

  it("mergeMessages returns the same array when nothing is new", () => {
    const list = [message(1), message(2)];
    expect(mergeMessages(list, [message(2)])).toBe(list);
    expect(mergeMessages([{ ...message(1), change: 3 }], [{ ...message(1), body: "newer", change: 4 }])[0]?.body).toBe("newer");
  });
});

describe("RoomSubscription windows (a search hit's surroundings)", () => {
  // A room of 200 messages: a window is seqs [from, to] of it; has_newer while to < newest.
  function windows(newest: () => number) {
    const asked: string[] = [];
    const fetch = (from: { around: number } | { after: number }, limit: number): Promise<HistoryPage> => {
      const start = "around" in from ? Math.max(1, from.around - Math.floor(limit / 2)) : from.after + 1;
      const end = Math.min(newest(), start + limit - 1);
      asked.push("around" in from ? `around ${from.around}` : `after ${from.after}`);
      const messages = [];
      for (let seq = start; seq <= end; seq++) messages.push(message(seq));
      return Promise.resolve({ room: "general", messages, has_more: start > 1, has_newer: end < newest() });
    };
    return { fetch, asked };
  }

  it("opens far back, pages newer until it meets the live end, and live messages wait for it", async () => {
    const { room } = subscription();
    let newest = 200;
    room.onJoined(joined(200, 190));
    for (let seq = 191; seq <= 200; seq++) room.onMessage(message(seq));
    const { fetch, asked } = windows(() => newest);
    await room.showAround(100, fetch, 10);
    expect(room.view.messages.map((m) => m.seq)).toEqual([95, 96, 97, 98, 99, 100, 101, 102, 103, 104]);
    expect(room.view).toMatchObject({ hasOlder: true, hasNewer: true });
    // A new message arrives while the window is shown: not under the window (there is a gap),
    // but the cursor moves, and an edit reaches the live end put aside.
    newest = 201;
    room.onMessage(message(201));
    room.applyChange(195, 7, { body: "edited" });
    expect(room.view.messages.map((m) => m.seq).at(-1)).toBe(104);
    expect(room.view.cursor).toBe(201);
    for (let page = 0; page < 20 && room.view.hasNewer; page++) await room.loadNewer(fetch, 30);
    expect(asked).toEqual(["around 100", "after 104", "after 134", "after 164"]);
    const seqs = room.view.messages.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 201 - 95 + 1 }, (_, i) => 95 + i)); // one list, no gap
    expect(room.view.messages.find((m) => m.seq === 195)?.body).toBe("edited");
    room.onMessage(message(202));
    expect(room.view.messages.at(-1)?.seq).toBe(202);
  });

  it("a loaded message needs no fetch; back to the latest drops the window", async () => {
    const { room } = subscription();
    room.onJoined(joined(200, 190));
    for (let seq = 191; seq <= 200; seq++) room.onMessage(message(seq));
    const { fetch, asked } = windows(() => 200);
    await room.showAround(195, fetch, 10);
    expect(asked).toEqual([]);
    await room.showAround(20, fetch, 10);
    expect(room.has(20) && room.has(195)).toBe(true);
    room.backToLatest();
    expect(room.view.messages.map((m) => m.seq)).toEqual([191, 192, 193, 194, 195, 196, 197, 198, 199, 200]);
    expect(room.view).toMatchObject({ hasOlder: true, hasNewer: false });
    // Jumping from a window to a message of the live end goes back to it, without a fetch.
    await room.showAround(30, fetch, 10);
    await room.showAround(199, fetch, 10);
    expect(asked).toEqual(["around 20", "around 30"]);
    expect(room.view.messages.at(-1)?.seq).toBe(200);
  });

  it("a window that reaches the newest message is the live end at once", async () => {
    const { room } = subscription();
    const { fetch } = windows(() => 12);
    await room.showAround(8, fetch, 10); // before the join's messages come
    expect(room.view).toMatchObject({ hasNewer: false });
    room.onJoined(joined(12, 2));
    for (let seq = 3; seq <= 13; seq++) room.onMessage(message(seq));
    expect(room.view.messages.map((m) => m.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });
});

describe("RoomSubscription people", () => {
  it("applies presence and typing, and forgets typing that ran out", () => {
    const { room } = subscription();
    room.onJoined(joined(0, 0));
    room.onPresence({ type: "presence", room: "general", joined: ["bob"], left: [], online: 2, users: null }, "alice", 0);
    expect(room.view.users).toEqual(["alice", "bob"]);
    expect(room.view.online).toBe(2);
    room.onTyping("bob", 4000);
    expect(room.pruneTyping(3999)).toBe(true);
    expect(room.pruneTyping(4000)).toBe(false);
    expect(room.view.typing).toEqual({});
    room.onTyping("bob", 9000);
    room.onMessage(message(1)); // bob's message: he stopped typing
    expect(room.view.typing).toEqual({});
  });

  it("a room with too many online to list is a count, and its list comes back whole", () => {
    const { room } = subscription();
    room.onJoined(joined(0, 0));
    // Over the server's limit: the list is dropped, the count goes on.
    room.onPresence({ type: "presence", room: "general", joined: [], left: [], online: 201, users: [] }, "alice", 0);
    expect([room.view.users, room.view.online]).toEqual([[], 201]);
    room.onPresence({ type: "presence", room: "general", joined: [], left: [], online: 230, users: null }, "alice", 0);
    expect([room.view.users, room.view.online]).toEqual([[], 230]);
    // Back under it: the whole list to start from again.
    room.onPresence({ type: "presence", room: "general", joined: [], left: [], online: 2, users: ["alice", "carol"] }, "alice", 0);
    expect([room.view.users, room.view.online]).toEqual([["alice", "carol"], 2]);
  });

  it("presence notices never announce the user, and a quick leave-and-return is no news", () => {
    let notices = presenceNotices([], ["alice", "bob"], [], "alice", 0);
    expect(notices.map((n) => n.text)).toEqual(["bob joined"]);
    notices = presenceNotices(notices, [], ["bob"], "alice", 1_000);
    notices = presenceNotices(notices, ["bob"], [], "alice", 2_000);
    expect(notices.map((n) => n.text)).toEqual(["bob joined"]);
    notices = presenceNotices(notices, [], ["bob"], "alice", 3_000);
    notices = presenceNotices(notices, ["bob"], [], "alice", 3_000 + 60_000);
    expect(notices.map((n) => n.text)).toEqual(["bob joined", "bob left", "bob joined"]);
  });

  it("a presence frame about someone already online, or already gone, is no news", () => {
    // Two workers' views cross, or a leave and a join fall into one frame: the list says
    // bob is online already, so "bob joined" again would be wrong.
    const first = presenceNotices([], ["bob"], [], "alice", 0, ["alice"]);
    expect(first.map((n) => n.text)).toEqual(["bob joined"]);
    expect(presenceNotices(first, ["bob"], [], "alice", 500, ["alice", "bob"])).toBe(first);
    expect(presenceNotices(first, [], ["carol"], "alice", 600, ["alice", "bob"])).toBe(first);
  });

  it("applyPresence applies comings and goings, each name once, sorted", () => {
    expect(applyPresence(["carol", "alice"], ["bob", "alice"], [])).toEqual(["alice", "bob", "carol"]);
    expect(applyPresence(["alice", "bob"], [], ["bob", "dave"])).toEqual(["alice"]);
    expect(applyPresence([], ["x"], ["x"])).toEqual([]);
  });
});

describe("RoomSubscription draft", () => {
  it("keeps the text, and changes its view only when a draft comes or goes", () => {
    const { room, changes } = subscription();
    const before = changes();
    room.setDraft("h");
    room.setDraft("hello");
    room.setDraft("hello there");
    expect(room.draft).toBe("hello there");
    expect(room.view.hasDraft).toBe(true);
    expect(changes()).toBe(before + 1);
    room.setDraft("   ");
    expect(room.view.hasDraft).toBe(false);
    expect(changes()).toBe(before + 2);
  });

  it("keeps the read mark it is given, and how far what was new then went", () => {
    const { room } = subscription();
    expect(room.view.readMark).toBeNull();
    room.setReadMark(7, 9);
    expect(room.view).toMatchObject({ readMark: 7, unreadUpTo: 9 });
    room.extendUnread(8);
    room.extendUnread(12);
    expect(room.view.unreadUpTo).toBe(12);
  });
});

import { describe, expect, it } from "vitest";

import { emptyRoom, type RoomView } from "../rooms/RoomSubscription";
import type { ChatMessage } from "../socket/protocol";
import { GROUP_WITHIN_MS, timeline } from "./timeline";

const T0 = new Date(2026, 4, 4, 10, 0).getTime();

function message(seq: number, author: string, ts: number): ChatMessage {
  return {
    type: "message",
    room: "general",
    seq,
    id: `m${seq}`,
    author,
    body: `m${seq}`,
    ts,
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

function room(messages: ChatMessage[], readMark: number | null = null, unreadUpTo = 0): RoomView {
  return { ...emptyRoom("general"), messages, readMark, unreadUpTo };
}

describe("timeline", () => {
  it("groups one author's messages a few minutes apart, and starts again after a gap or another author", () => {
    const items = timeline(
      room([
        message(1, "bob", T0),
        message(2, "bob", T0 + 60_000),
        message(3, "bob", T0 + 60_000 + GROUP_WITHIN_MS + 1),
        message(4, "ann", T0 + GROUP_WITHIN_MS * 2),
        message(5, "bob", T0 + GROUP_WITHIN_MS * 2 + 1),
      ]),
      "ann",
    );
    expect(items.map((i) => i.kind === "message" && i.continued)).toEqual([false, true, false, false, false]);
    expect(items[0]?.day).toBeDefined();
  });

  it("puts the divider before the first message someone else wrote that was new when the room opened", () => {
    const messages = [message(1, "bob", T0), message(2, "ann", T0 + 1), message(3, "bob", T0 + 2), message(4, "bob", T0 + 3)];
    const firsts = (view: RoomView) => timeline(view, "ann").filter((i) => i.kind === "message" && i.firstUnread);
    expect(firsts(room(messages, 1, 4)).map((i) => i.key)).toEqual(["m3"]); // not ann's own
    expect(firsts(room(messages, 2, 2))).toEqual([]); // 3 and 4 came while she looked
    expect(firsts(room(messages, null, 4))).toEqual([]); // not known yet
    // The divider breaks a group: the first new message shows its author.
    const items = timeline(room(messages, 3, 4), "ann");
    expect(items.find((i) => i.key === "m4")).toMatchObject({ firstUnread: true, continued: false });
  });
});

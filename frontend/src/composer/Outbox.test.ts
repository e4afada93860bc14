import { describe, expect, it } from "vitest";

import type { ClientFrame } from "../socket/protocol";
import { FakeClock } from "../test-data/fakeClock";
import { Outbox, type OutboxEnvironment } from "./Outbox";

class Env extends FakeClock implements OutboxEnvironment {
  saved: string | null = null;
  loadOutbox(): string | null {
    return this.saved;
  }
  saveOutbox(value: string): void {
    this.saved = value;
  }
}

/** A connection that is up or down, with the rooms joined on it. */
class Link {
  up = true;
  rooms = new Set(["general"]);
  sent: ClientFrame[] = [];
  joined(room: string): boolean {
    return this.up && this.rooms.has(room);
  }
  send(frame: ClientFrame): boolean {
    if (!this.up) return false;
    this.sent.push(frame);
    return true;
  }
}

function outbox(env = new Env()): { env: Env; link: Link; box: Outbox } {
  const link = new Link();
  return { env, link, box: new Outbox(env, link, () => undefined) };
}

const ids = (frames: ClientFrame[]) => frames.map((f) => ("client_msg_id" in f ? f.client_msg_id : "ref" in f ? f.ref : null));

describe("Outbox", () => {
  it("sends in order, once per connection, and again on the next until answered", () => {
    const { link, box } = outbox();
    link.up = false;
    box.send("general", "one", null);
    box.send("general", "two", null);
    expect(link.sent).toEqual([]);
    link.up = true;
    box.flush();
    box.flush();
    expect(link.sent.map((f) => f.type === "send" && f.body)).toEqual(["one", "two"]);
    const [first, second] = ids(link.sent);
    box.settle(first!);
    box.connectionLost();
    box.flush();
    expect(ids(link.sent)).toEqual([first, second, second]);
    box.settle(second!);
    expect(box.items).toEqual([]);
  });

  it("waits for a message's room to be joined", () => {
    const { link, box } = outbox();
    box.send("ops", "for ops", null);
    expect(link.sent).toEqual([]);
    link.rooms.add("ops");
    box.flush();
    expect(link.sent).toHaveLength(1);
  });

  it("waits out a rate limit and a store outage, then sends the same again", () => {
    const { env, link, box } = outbox();
    box.send("general", "slow down", null);
    const [id] = ids(link.sent);
    expect(box.refuse(id!, "rate_limited", "slow", 0.5)).toBeNull();
    env.advance(499);
    expect(link.sent).toHaveLength(1);
    env.advance(1);
    expect(ids(link.sent)).toEqual([id, id]);
    box.refuse(id!, "store_unavailable", "down", 0);
    env.advance(2000);
    expect(link.sent).toHaveLength(3);
  });

  it("marks a message refused for good failed; a refused change is let go and told", () => {
    const { link, box } = outbox();
    box.send("general", "x", null);
    box.change({ room: "general", body: "y", kind: "edit", target: "m1" });
    box.change({ room: "general", body: "", kind: "delete", target: "m2" });
    const [message, edit, remove] = ids(link.sent);
    expect(box.refuse(message!, "too_large", "too large", 0)).toBeNull();
    expect(box.refuse(edit!, "forbidden", "not yours", 0)).toBe("Could not edit the message: not yours");
    expect(box.refuse(remove!, "unknown_message", "gone", 0)).toBeNull(); // gone is what was asked
    expect(box.items.map((p) => p.failed)).toEqual(["too large"]);
    box.connectionLost();
    box.flush();
    expect(link.sent).toHaveLength(3); // a failed message is never resent
    box.retry(message!, "ops");
    link.rooms.add("ops");
    box.flush();
    expect(link.sent[3]).toMatchObject({ type: "send", room: "ops", client_msg_id: message });
  });

  it("cancels a reaction toggled back before it went out", () => {
    const { link, box } = outbox();
    link.up = false;
    box.react("general", "m1", "🎉", true);
    box.react("general", "m1", "🎉", false);
    expect(box.items).toEqual([]);
  });

  it("fails what waits for a room that went away", () => {
    const { link, box } = outbox();
    link.rooms.add("ops");
    box.send("ops", "for ops", null);
    box.failRoom("ops", "You are no longer in this room.");
    expect(box.items[0]?.failed).toBe("You are no longer in this room.");
  });

  it("keeps what waits in storage for the next page, ignoring what it cannot read", () => {
    const { env, box } = outbox();
    box.send("elsewhere", "kept", null);
    const next = outbox(env);
    expect(next.box.restore()).toEqual(["elsewhere"]);
    expect(next.box.items.map((p) => p.body)).toEqual(["kept"]);
    env.saved = '[{"clientMsgId": 7}, "junk"';
    expect(outbox(env).box.restore()).toEqual([]);
  });
});

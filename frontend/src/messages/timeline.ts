import type { Notice, RoomView } from "../rooms/RoomSubscription";
import type { ChatMessage } from "../socket/protocol";
import { dayKey } from "./days";

/** What the message list shows, in order: messages and notices, with a day separator before
 * the first item of each calendar day, the "New messages" divider before the first unread
 * message, and consecutive messages of one author grouped. */
export type Item = (
  | {
      kind: "message";
      key: string;
      ts: number;
      message: ChatMessage;
      /** Follows a message by the same author, a moment before: shown without name and time. */
      continued: boolean;
      /** The first message the reader has not seen: the divider goes before it. */
      firstUnread: boolean;
    }
  | { kind: "notice"; key: string; ts: number; notice: Notice }
) & {
  /** Set on the first item of a calendar day: the separator before it. */
  day?: string;
};

/** Messages this close together, by one author, read as one: what every chat does. */
export const GROUP_WITHIN_MS = 5 * 60 * 1000;

/** The first message someone else wrote after the read mark, among those there were when the
 * room was opened (up to `upTo`), if any. */
export function firstUnreadOf(
  messages: readonly ChatMessage[],
  readMark: number | null,
  upTo: number,
  me: string,
): number | null {
  if (readMark === null) return null;
  return messages.find((m) => m.seq > readMark && m.seq <= upTo && m.author !== me)?.seq ?? null;
}

export function timeline(room: RoomView | undefined, me: string): Item[] {
  if (!room) return [];
  const unread = firstUnreadOf(room.messages, room.readMark, room.unreadUpTo, me);
  const items: Item[] = room.messages.map((message) => ({
    kind: "message",
    key: `m${message.seq}`,
    ts: message.ts,
    message,
    continued: false,
    firstUnread: message.seq === unread,
  }));
  // Notices slot in by time among messages, which stay in sequence order.
  for (const notice of room.notices) {
    let at = items.length;
    while (at > 0 && (items[at - 1]?.ts ?? 0) > notice.ts) at--;
    items.splice(at, 0, { kind: "notice", key: `n${notice.key}`, ts: notice.ts, notice });
  }
  let lastDay: string | null = null;
  let previous: Item | null = null;
  for (const item of items) {
    const day = dayKey(item.ts);
    if (day !== lastDay) item.day = day;
    lastDay = day;
    if (item.kind === "message" && previous?.kind === "message" && !item.day && !item.firstUnread) {
      const before = previous.message;
      const message = item.message;
      item.continued =
        before.author === message.author &&
        before.bot === message.bot &&
        message.ts - before.ts >= 0 &&
        message.ts - before.ts <= GROUP_WITHIN_MS;
    }
    previous = item;
  }
  return items;
}

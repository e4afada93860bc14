import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";

import { isChange, type PendingMessage } from "../composer/Outbox";
import type { Notice, RoomView } from "../rooms/RoomSubscription";
import type { ChatMessage } from "../socket/protocol";
import { dayKey, dayLabel } from "./days";
import { MessageRow, type MessageActions } from "./MessageRow";
import { withPending } from "./pendingChanges";

type Item = (
  | { kind: "message"; key: string; ts: number; message: ChatMessage }
  | { kind: "notice"; key: string; ts: number; notice: Notice }
) & {
  /** Set on the first item of a calendar day: the separator before it. */
  day?: string;
};

function timeline(room: RoomView | undefined): Item[] {
  if (!room) return [];
  const items: Item[] = room.messages.map((message) => ({
    kind: "message",
    key: `m${message.seq}`,
    ts: message.ts,
    message,
  }));
  // Notices slot in by time among messages, which stay in sequence order.
  for (const notice of room.notices) {
    let at = items.length;
    while (at > 0 && (items[at - 1]?.ts ?? 0) > notice.ts) at--;
    items.splice(at, 0, { kind: "notice", key: `n${notice.key}`, ts: notice.ts, notice });
  }
  let last: string | null = null;
  for (const item of items) {
    const day = dayKey(item.ts);
    if (day !== last) item.day = day;
    last = day;
  }
  return items;
}

/** Where the reader was in a room: at the bottom, or with message `anchor` `offset` px from the top. */
export interface ScrollPlace {
  atBottom: boolean;
  anchor: number;
  offset: number;
}

const RESTORE_PAGES = 20; // older pages loaded, at most, to find where the reader was

export function MessageList({
  room,
  outbox,
  me,
  readAtOpen,
  place,
  onPlace,
  onLoadOlder,
  onDismiss,
  onRetry,
  onSeen,
  actions,
}: {
  room: RoomView | undefined;
  outbox: PendingMessage[];
  me: string;
  /** The read position when the room was opened: the "new messages" divider goes after it. */
  readAtOpen: number;
  /** Where the reader left this room (null: first visit, open at the newest). */
  place: ScrollPlace | null;
  onPlace: (place: ScrollPlace) => void;
  onLoadOlder: () => void;
  onDismiss: (clientMsgId: string) => void;
  onRetry: (clientMsgId: string) => void;
  /** The newest message that has been on screen, while the page is visible. */
  onSeen: (seq: number) => void;
  actions: MessageActions;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const previous = useRef({ height: 0, top: 0, first: undefined as number | undefined, count: 0 });
  const [away, setAway] = useState<number | null>(null); // the newest seq when the reader scrolled up
  const [now] = useState(() => Date.now()); // "Today" is the day the room was opened
  const items = useMemo(() => timeline(room), [room]);
  const delivered = useMemo(
    () => new Set(room?.messages.filter((m) => m.author === me).map((m) => m.client_msg_id)),
    [room, me],
  );
  const pending = outbox.filter((p) => !isChange(p) && !delivered.has(p.clientMsgId));
  const changes = outbox.filter(isChange);
  const newest = room?.messages[room.messages.length - 1]?.seq ?? 0;
  const unseenBelow = away === null ? 0 : (room?.messages.filter((m) => m.seq > away && m.author !== me).length ?? 0);
  const divider = room?.messages.find((m) => m.seq > readAtOpen && m.author !== me)?.seq;

  // Back in a room: find where the reader was (loading older pages if need be), once.
  const restoring = useRef(place && !place.atBottom ? { ...place, pages: 0 } : null);

  // Keep the view steady: stick to the bottom for new messages, keep position when older ones load.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const wanted = restoring.current;
    // Wait for the history to arrive in full: placed any earlier, the view would sit at the
    // bottom of a shorter list and then stick there as the rest streamed in below.
    if (wanted && room?.joined && (room.cursor ?? 0) >= room.head) {
      const anchor = element.querySelector<HTMLElement>(`li[data-seq="${wanted.anchor}"]`);
      if (anchor) {
        element.scrollTop = anchor.offsetTop - wanted.offset;
        restoring.current = null;
      } else if (room.hasOlder && wanted.pages < RESTORE_PAGES) {
        if (!room.loadingOlder) {
          wanted.pages += 1;
          onLoadOlder();
        }
      } else {
        restoring.current = null;
      }
      previous.current = {
        height: element.scrollHeight,
        top: element.scrollTop,
        first: room.messages[0]?.seq,
        count: items.length + pending.length,
      };
      return;
    }
    const before = previous.current;
    const first = room?.messages[0]?.seq;
    const nearBottom = before.height - before.top - element.clientHeight < 80;
    if (before.first !== undefined && first !== undefined && first < before.first) {
      element.scrollTop = element.scrollHeight - before.height + before.top;
    } else if (nearBottom || before.count === 0) {
      element.scrollTop = element.scrollHeight;
    }
    previous.current = {
      height: element.scrollHeight,
      top: element.scrollTop,
      first,
      count: items.length + pending.length,
    };
  }, [items, pending.length, room, onLoadOlder]);

  // Messages count as read once they have been on screen while the page is visible.
  const visible = useRef(new Set<number>());
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const report = () => {
      if (document.visibilityState !== "visible" || visible.current.size === 0) return;
      onSeen(Math.max(...visible.current));
    };
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const seq = Number((entry.target as HTMLElement).dataset.seq);
          if (entry.isIntersecting) visible.current.add(seq);
          else visible.current.delete(seq);
        }
        report();
      },
      { root: element, threshold: 0.6 },
    );
    for (const node of element.querySelectorAll<HTMLElement>("li[data-seq]")) observer.observe(node);
    document.addEventListener("visibilitychange", report);
    return () => {
      observer.disconnect();
      document.removeEventListener("visibilitychange", report);
      visible.current = new Set();
    };
  }, [items, onSeen]);

  function jumpToLatest() {
    const element = scroller.current;
    if (element) element.scrollTop = element.scrollHeight;
    setAway(null);
  }

  return (
    <div className="message-area">
      <div
        className="messages"
        ref={scroller}
        role="region"
        tabIndex={0}
        aria-label="Message history"
        onScroll={(e) => {
          const element = e.currentTarget;
          // Only a move up is the reader's: our own scrolling (sticking to the bottom, keeping the
          // place when older messages load) only ever moves down, and while history streams in it
          // can pass near the top of a list that has barely begun to overflow.
          const movedUp = element.scrollTop < previous.current.top;
          previous.current = { ...previous.current, height: element.scrollHeight, top: element.scrollTop };
          const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
          if (!restoring.current) onPlace(placeOf(element, atBottom));
          if (atBottom) setAway(null);
          else if (movedUp && away === null) setAway(newest);
          if (movedUp && element.scrollTop < 60 && room?.hasOlder) onLoadOlder();
        }}
      >
        {room?.hasOlder && (
          <button type="button" className="link older" onClick={onLoadOlder} disabled={room.loadingOlder}>
            {room.loadingOlder ? "Loading…" : "Load older messages"}
          </button>
        )}
        <div role="log" aria-live="polite" aria-relevant="additions" aria-label="Messages" data-testid="messages">
          <ol>
            {items.map((item) => {
              const separator = item.day ? (
                <li key={`d${item.day}`} className="day">
                  {dayLabel(item.ts, now)}
                </li>
              ) : null;
              if (item.kind === "notice") {
                return [
                  separator,
                  <li key={item.key} className="notice-line">
                    {item.notice.text}
                  </li>,
                ];
              }
              const message = item.message;
              return [
                separator,
                message.seq === divider && readAtOpen > 0 ? (
                  <li key="new" className="new-divider" data-testid="new-divider">
                    New messages
                  </li>
                ) : null,
                <MessageRow
                  key={item.key}
                  shown={withPending(message, changes, me)}
                  mentionsMe={message.author !== me && (message.mentions.includes(me) || message.mentions.includes("@room"))}
                  actions={actions}
                />,
              ];
            })}
            {pending.map((p) => (
              <li key={p.clientMsgId} className="message own pending" data-testid="pending-message">
                <div className="meta">
                  <span className="author">{me}</span>
                  <span className="time">{p.failed ? "not sent" : "sending…"}</span>
                </div>
                <p className="body">{p.body}</p>
                {p.failed && (
                  <p className="error">
                    {p.failed}{" "}
                    <button
                      type="button"
                      className="link"
                      onClick={() => {
                        onRetry(p.clientMsgId);
                      }}
                    >
                      Retry
                    </button>
                    <button
                      type="button"
                      className="link"
                      onClick={() => {
                        onDismiss(p.clientMsgId);
                      }}
                    >
                      Discard
                    </button>
                  </p>
                )}
              </li>
            ))}
          </ol>
        </div>
        {room && room.messages.length === 0 && !room.hasOlder && pending.length === 0 && room.joined && (
          <p className="empty">No messages yet. Say hello!</p>
        )}
      </div>
      {unseenBelow > 0 && (
        <button type="button" className="jump" onClick={jumpToLatest}>
          Jump to latest ({unseenBelow} new)
        </button>
      )}
    </div>
  );
}

/** The top-most message on screen, and how far below the top it sits. */
function placeOf(element: HTMLElement, atBottom: boolean): ScrollPlace {
  for (const node of element.querySelectorAll<HTMLElement>("li[data-seq]")) {
    if (node.offsetTop + node.offsetHeight > element.scrollTop) {
      return { atBottom, anchor: Number(node.dataset.seq), offset: node.offsetTop - element.scrollTop };
    }
  }
  return { atBottom: true, anchor: 0, offset: 0 };
}

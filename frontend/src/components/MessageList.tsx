import { useLayoutEffect, useMemo, useRef } from "react";

import type { Notice, PendingMessage, RoomView } from "../socket/ChatClient";
import type { ChatMessage } from "../socket/protocol";

type Item =
  | { kind: "message"; key: string; ts: number; message: ChatMessage }
  | { kind: "notice"; key: string; ts: number; notice: Notice };

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

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
  return items;
}

export function MessageList({
  room,
  outbox,
  me,
  onLoadOlder,
  onDismiss,
}: {
  room: RoomView | undefined;
  outbox: PendingMessage[];
  me: string;
  onLoadOlder: () => void;
  onDismiss: (clientMsgId: string) => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const previous = useRef({ height: 0, top: 0, first: undefined as number | undefined, count: 0 });
  const items = useMemo(() => timeline(room), [room]);
  const delivered = useMemo(
    () => new Set(room?.messages.filter((m) => m.author === me).map((m) => m.client_msg_id)),
    [room, me],
  );
  const pending = outbox.filter((p) => !delivered.has(p.clientMsgId));

  // Keep the view steady: stick to the bottom for new messages, keep position when older ones load.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
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
  }, [items, pending.length, room]);

  return (
    <div
      className="messages"
      ref={scroller}
      onScroll={(e) => {
        const element = e.currentTarget;
        // Only a move up is the reader's: our own scrolling (sticking to the bottom, keeping the
        // place when older messages load) only ever moves down, and while history streams in it can
        // pass near the top of a list that has barely begun to overflow.
        const movedUp = element.scrollTop < previous.current.top;
        previous.current = { ...previous.current, height: element.scrollHeight, top: element.scrollTop };
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
        {items.map((item) =>
          item.kind === "notice" ? (
            <li key={item.key} className="notice-line">
              {item.notice.text}
            </li>
          ) : (
            <MessageRow key={item.key} message={item.message} own={item.message.author === me} />
          ),
        )}
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
                    onDismiss(p.clientMsgId);
                  }}
                >
                  Dismiss
                </button>
              </p>
            )}
          </li>
        ))}
        </ol>
      </div>
      {room && items.length === 0 && pending.length === 0 && room.joined && (
        <p className="empty">No messages yet. Say hello!</p>
      )}
    </div>
  );
}

function MessageRow({ message, own }: { message: ChatMessage; own: boolean }) {
  const date = new Date(message.ts);
  return (
    <li className={own ? "message own" : "message"} data-seq={message.seq}>
      <div className="meta">
        <span className="author">{message.author}</span>
        <time dateTime={date.toISOString()} title={fullFormat.format(date)} className="time">
          {timeFormat.format(date)}
        </time>
      </div>
      <p className="body">{message.body}</p>
    </li>
  );
}

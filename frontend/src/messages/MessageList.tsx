import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";

import { isChange, type PendingMessage } from "../composer/Outbox";
import { ImageViewer } from "../files/ImageViewer";
import { PendingFiles } from "../files/PendingFiles";
import type { UploadProgress } from "../files/Uploads";
import type { RoomView } from "../rooms/RoomSubscription";
import { dayLabel } from "./days";
import { MessageRow, type MessageActions } from "./MessageRow";
import { withPending } from "./pendingChanges";
import { firstUnreadOf, timeline } from "./timeline";

/** Where the reader was in a room: at the bottom, or with message `anchor` `offset` px from the top. */
export interface ScrollPlace {
  atBottom: boolean;
  anchor: number;
  offset: number;
}

/** Where the list must be put once the room's history is in: back where the reader was, or
 * at the first unread message (the bottom when nothing is unread). `pages`: older pages
 * loaded so far to find it. */
type Target =
  | { kind: "place"; anchor: number; offset: number; pages: number }
  | { kind: "unread"; pages: number }
  | { kind: "message"; seq: number };

/** A message to show and highlight (a search hit): `n` tells one jump from the next to the same message. */
export interface Focus {
  seq: number;
  n: number;
}

const RESTORE_PAGES = 20; // older pages loaded, at most, to find where the reader was
const NEAR_BOTTOM_PX = 80; // this close to the bottom is at the bottom: the list follows
const NEAR_TOP_PX = 60; // scrolled up this close to the top: older messages are fetched
const DIVIDER_MARGIN_PX = 8; // the "New messages" line sits this far below the top
const VISIBLE_SHARE = 0.6; // a message this much on screen has been seen

function pin(element: HTMLElement) {
  element.scrollTop = element.scrollHeight;
}

export function MessageList({
  room,
  outbox,
  me,
  place,
  focus,
  onPlace,
  onLoadOlder,
  onLoadNewer,
  onLatest,
  onDismiss,
  onRetry,
  uploads,
  onCancelFile,
  onSeen,
  actions,
}: {
  room: RoomView | undefined;
  outbox: PendingMessage[];
  me: string;
  /** Where the reader left this room (null: first visit here). */
  place: ScrollPlace | null;
  /** The message to bring on screen and highlight (null: none). */
  focus: Focus | null;
  onPlace: (place: ScrollPlace) => void;
  onLoadOlder: () => void;
  /** Page in newer messages below a window of older history (room.hasNewer). */
  onLoadNewer: () => void;
  /** Leave a window of older history for the newest messages. */
  onLatest: () => void;
  onDismiss: (clientMsgId: string) => void;
  onRetry: (clientMsgId: string) => void;
  /** How far each file of a waiting message is uploaded. */
  uploads: UploadProgress;
  onCancelFile: (clientMsgId: string, key: string) => void;
  /** The newest message that has been on screen, while the page is visible. */
  onSeen: (seq: number) => void;
  actions: MessageActions;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  // The reader is at the bottom: the list stays there as messages come and the message box
  // grows or shrinks. Only the reader's own scrolling changes it (or their sending, which
  // always brings them down to what they sent).
  const stick = useRef(true);
  const previous = useRef({ height: 0, top: 0, first: undefined as number | undefined, sent: 0 });
  const [away, setAway] = useState<number | null>(null); // the newest seq when the reader left the bottom
  const [now] = useState(() => Date.now()); // "Today" is the day the room was opened
  const readMark = room?.readMark ?? null;
  const items = useMemo(() => timeline(room, me), [room, me]);
  const delivered = useMemo(
    () => new Set(room?.messages.filter((m) => m.author === me).map((m) => m.client_msg_id)),
    [room, me],
  );
  const pending = outbox.filter((p) => !isChange(p) && !delivered.has(p.clientMsgId));
  // Every image of the room, oldest first: the viewer steps through them with the arrow keys.
  const images = useMemo(
    () => (room?.messages ?? []).flatMap((m) => (m.deleted ? [] : m.files.filter((f) => f.width !== null))),
    [room],
  );
  const [viewing, setViewing] = useState<number | null>(null);
  const shownActions = useMemo(
    () => ({
      ...actions,
      openImage: (file: { id: string }) => {
        const index = images.findIndex((image) => image.id === file.id);
        if (index >= 0) setViewing(index);
      },
    }),
    [actions, images],
  );
  const changes = outbox.filter(isChange);
  const newest = room?.messages[room.messages.length - 1]?.seq ?? 0;
  const unseenBelow = away === null ? 0 : (room?.messages.filter((m) => m.seq > away && m.author !== me).length ?? 0);

  // Opened here before and left reading older messages: back there. Otherwise: the first
  // unread message, or the bottom. Either way once, when the history is in.
  const target = useRef<Target | null>(
    focus
      ? { kind: "message", seq: focus.seq }
      : place && !place.atBottom
        ? { kind: "place", anchor: place.anchor, offset: place.offset, pages: 0 }
        : { kind: "unread", pages: 0 },
  );
  // A jump (a search hit), also while the room is on screen: go there, and highlight it.
  const highlighted = focus?.seq ?? null;
  useLayoutEffect(() => {
    if (focus) target.current = { kind: "message", seq: focus.seq };
    else if (target.current?.kind === "message") target.current = { kind: "unread", pages: 0 }; // the jump failed
  }, [focus]);

  // Keep the view steady on every change: reach the target, keep the place when older messages
  // load above, and follow the bottom while stuck there.
  useLayoutEffect(() => {
    function remember(element: HTMLElement) {
      previous.current = {
        ...previous.current,
        height: element.scrollHeight,
        top: element.scrollTop,
        first: room?.messages[0]?.seq,
      };
    }

    /** Put the list where the target says, once the history allows; true when done. */
    function reach(element: HTMLElement, wanted: Target): boolean {
      if (wanted.kind === "message") {
        // Shown once the window around it is in (which need not wait for the join).
        const row = element.querySelector<HTMLElement>(`li[data-seq="${wanted.seq}"]`);
        const messages = room?.messages ?? [];
        const inRange = (messages[0]?.seq ?? Infinity) <= wanted.seq && wanted.seq <= (messages.at(-1)?.seq ?? 0);
        if (!row && !inRange) return false;
        if (row) element.scrollTop = row.offsetTop - Math.max(0, (element.clientHeight - row.offsetHeight) / 2);
        stick.current = !row && !room?.hasNewer;
        if (!stick.current) setAway(room?.messages.at(-1)?.seq ?? 0);
        return true;
      }
      if (!room?.joined || (room.cursor ?? 0) < room.head) return false; // history still streaming in
      const older = () => {
        if (room.hasOlder && wanted.pages < RESTORE_PAGES) {
          if (!room.loadingOlder) {
            wanted.pages += 1;
            onLoadOlder();
          }
          return true;
        }
        return false;
      };
      if (wanted.kind === "place") {
        const anchor = element.querySelector<HTMLElement>(`li[data-seq="${wanted.anchor}"]`);
        if (!anchor && older()) return false;
        if (anchor) element.scrollTop = anchor.offsetTop - wanted.offset;
        else pin(element); // gone (deleted, or too far back): the newest instead
        stick.current = !anchor;
        return true;
      }
      if (readMark === null) return false; // the room list has not said where reading stopped yet
      const first = room.messages[0]?.seq;
      const unread = firstUnreadOf(room.messages, readMark, room.unreadUpTo, me);
      // The first unread message may be older than what came with the join: page back to it.
      if ((first === undefined || first > readMark + 1) && older()) return false;
      const divider = unread === null ? null : element.querySelector<HTMLElement>("[data-testid=new-divider]");
      if (divider) {
        element.scrollTop = divider.offsetTop - DIVIDER_MARGIN_PX;
        const bottom = element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX;
        stick.current = bottom;
        if (!bottom) setAway(readMark);
      } else {
        stick.current = true;
        pin(element);
      }
      return true;
    }

    const element = scroller.current;
    if (!element) return;
    const wanted = target.current;
    if (wanted) {
      if (reach(element, wanted)) {
        target.current = null;
        reportSeen(element, onSeen); // what shows now has been seen
      } else if (wanted.kind !== "message") {
        pin(element); // until then the newest is what shows
      }
      remember(element);
      previous.current.sent = pending.length;
      return;
    }
    const before = previous.current;
    const first = room?.messages[0]?.seq;
    if (before.first !== undefined && first !== undefined && first < before.first) {
      element.scrollTop = element.scrollHeight - before.height + before.top;
    }
    if (pending.length > before.sent) {
      // The user sent something: they see it go.
      stick.current = true;
      setAway(null);
    }
    if (stick.current && !room?.hasNewer) pin(element);
    remember(element);
    previous.current.sent = pending.length;
  }, [room, readMark, me, pending.length, items, onLoadOlder, onSeen, highlighted]);

  // The list and the message box change size without a render of this list (the box grows
  // as one types; a code block is highlighted; a picker opens): stuck to the bottom, stay.
  useEffect(() => {
    const element = scroller.current;
    const inner = content.current;
    if (!element || !inner) return;
    const observer = new ResizeObserver(() => {
      if (stick.current && !target.current) {
        pin(element);
        previous.current = { ...previous.current, height: element.scrollHeight, top: element.scrollTop };
      }
    });
    observer.observe(element);
    observer.observe(inner);
    return () => {
      observer.disconnect();
    };
  }, []);

  // Messages count as read once they have been on screen while the page is visible; never
  // while the list is still being put in place.
  const visible = useRef(new Set<number>());
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const report = () => {
      if (document.visibilityState !== "visible" || visible.current.size === 0 || target.current) return;
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
      { root: element, threshold: VISIBLE_SHARE },
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
    if (room?.hasNewer) onLatest();
    const element = scroller.current;
    if (element) pin(element);
    stick.current = true;
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
        id="message-history"
        onScroll={(e) => {
          const element = e.currentTarget;
          // Only a move up may fetch older messages: while history streams in, following the
          // bottom can pass near the top of a list that has barely begun to overflow.
          const movedUp = element.scrollTop < previous.current.top;
          previous.current = { ...previous.current, height: element.scrollHeight, top: element.scrollTop };
          if (target.current) return;
          const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX;
          onPlace(placeOf(element, atBottom));
          if (atBottom !== stick.current) {
            stick.current = atBottom;
            setAway(atBottom ? null : newest);
          }
          if (movedUp && element.scrollTop < NEAR_TOP_PX && room?.hasOlder) onLoadOlder();
          const nearEnd = element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_TOP_PX;
          if (!movedUp && nearEnd && room?.hasNewer) onLoadNewer();
        }}
      >
        {room?.hasOlder && (
          <button type="button" className="link older" onClick={onLoadOlder} disabled={room.loadingOlder}>
            {room.loadingOlder ? "Loading…" : "Load older messages"}
          </button>
        )}
        <div
          role="log"
          aria-live="polite"
          aria-relevant="additions"
          aria-label="Messages"
          data-testid="messages"
          ref={content}
        >
          <ol className="timeline">
            {items.map((item) => {
              const separator = item.day ? (
                <li key={`d${item.day}`} className="day">
                  {dayLabel(item.ts, now)}
                </li>
              ) : null;
              if (item.kind === "notice") {
                return [
                  separator,
                  <li key={item.key} className="notice-line" dir="auto">
                    {item.notice.text}
                  </li>,
                ];
              }
              const message = item.message;
              return [
                separator,
                item.firstUnread ? (
                  <li key="new" className="new-divider" data-testid="new-divider">
                    New messages
                  </li>
                ) : null,
                <MessageRow
                  key={item.key}
                  shown={withPending(message, changes, me)}
                  continued={item.continued}
                  mentionsMe={message.author !== me && (message.mentions.includes(me) || message.mentions.includes("@room"))}
                  focused={message.seq === highlighted}
                  actions={shownActions}
                />,
              ];
            })}
            {pending.map((p) => (
              <li key={p.clientMsgId} className="message own pending" data-testid="pending-message">
                <div className="meta">
                  <span className="author" dir="auto">
                    {me}
                  </span>
                  <span className="state">{p.failed ? "not sent" : "sending…"}</span>
                </div>
                {p.body && (
                  <p className="body" dir="auto">
                    {p.body}
                  </p>
                )}
                {p.attachments && p.attachments.length > 0 && (
                  <PendingFiles
                    attachments={p.attachments}
                    progress={uploads}
                    onCancel={(key) => {
                      onCancelFile(p.clientMsgId, key);
                    }}
                  />
                )}
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
          {room?.hasNewer && (
            <button type="button" className="link older" data-testid="load-newer" onClick={onLoadNewer} disabled={room.loadingNewer}>
              {room.loadingNewer ? "Loading…" : "Load newer messages"}
            </button>
          )}
        </div>
        {room && room.messages.length === 0 && !room.hasOlder && pending.length === 0 && room.joined && (
          <p className="empty">No messages yet. Say hello!</p>
        )}
      </div>
      <ImageViewer
        images={images}
        index={viewing !== null && viewing < images.length ? viewing : null}
        onIndex={setViewing}
        onClose={() => {
          setViewing(null);
        }}
      />
      {(unseenBelow > 0 || room?.hasNewer) && (
        <button type="button" className="jump" onClick={jumpToLatest}>
          {room?.hasNewer ? "Jump to latest" : `Jump to latest (${unseenBelow} new)`}
        </button>
      )}
    </div>
  );
}

/** The newest message at least VISIBLE_SHARE on screen, if the page is visible. */
function reportSeen(element: HTMLElement, onSeen: (seq: number) => void): void {
  if (document.visibilityState !== "visible") return;
  const view = element.getBoundingClientRect();
  let newest = 0;
  for (const node of element.querySelectorAll<HTMLElement>("li[data-seq]")) {
    const box = node.getBoundingClientRect();
    const shown = Math.min(box.bottom, view.bottom) - Math.max(box.top, view.top);
    if (box.height > 0 && shown / box.height >= VISIBLE_SHARE) newest = Math.max(newest, Number(node.dataset.seq));
  }
  if (newest > 0) onSeen(newest);
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

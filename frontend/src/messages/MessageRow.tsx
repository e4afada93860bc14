import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";

import { renderBody } from "../markdown";
import type { ChatMessage } from "../socket/protocol";
import { useAutoGrow } from "../composer/autoGrow";
import { EmojiPicker } from "../emoji/EmojiPicker";
import type { Shown } from "./pendingChanges";

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

/** What the user may do to messages, and how. */
export interface MessageActions {
  me: string;
  /** The room's owner or an admin: may delete anyone's message. */
  moderator: boolean;
  onEdit: (message: ChatMessage, body: string) => void;
  onDelete: (message: ChatMessage) => void;
  onReact: (message: ChatMessage, emoji: string, on: boolean) => void;
  onQuote: (message: ChatMessage) => void;
  /** The message being edited (its seq), or null; set it to start or stop editing. */
  editing: number | null;
  setEditing: (seq: number | null) => void;
}

export function MessageRow({
  shown,
  mentionsMe,
  actions,
}: {
  shown: Shown;
  mentionsMe: boolean;
  actions: MessageActions;
}) {
  const { message, saving, deleting } = shown;
  const own = message.author === actions.me && !message.bot;
  const editing = actions.editing === message.seq && own && !message.deleted;
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [pinned, setPinned] = useState(false); // actions shown after a long press (touch)
  const date = new Date(message.ts);
  const full = fullFormat.format(date);
  const classes = [
    "message",
    own ? "own" : "",
    mentionsMe ? "mentions-me" : "",
    message.deleted ? "deleted" : "",
    deleting ? "deleting" : "",
    pinned ? "show-actions" : "",
  ]
    .filter(Boolean)
    .join(" ");
  const canDelete = own || actions.moderator;
  const row = useRef<HTMLLIElement>(null);
  useEffect(() => {
    const node = row.current;
    if (!node || message.deleted) return;
    // A long press on a phone: the message's actions instead of the browser's menu.
    const onContextMenu = (event: MouseEvent) => {
      if (window.matchMedia("(hover: none)").matches) {
        event.preventDefault();
        setPinned(true);
      }
    };
    node.addEventListener("contextmenu", onContextMenu);
    return () => {
      node.removeEventListener("contextmenu", onContextMenu);
    };
  }, [message.deleted]);

  return (
    <li className={classes} data-seq={message.seq} ref={row}>
      <div className="meta">
        <span className="author">{message.author}</span>
        {message.bot && <span className="bot-badge">bot</span>}
        <time dateTime={date.toISOString()} title={full} aria-label={full} className="time">
          {timeFormat.format(date)}
        </time>
        {message.edited_at !== null && !message.deleted && <Edited at={message.edited_at} />}
        {saving && <span className="time">saving…</span>}
        {deleting && <span className="time">deleting…</span>}
      </div>
      {message.deleted ? (
        <p className="body tombstone">message deleted</p>
      ) : editing ? (
        <EditBox
          body={message.body}
          onSave={(body) => {
            actions.setEditing(null);
            if (body !== message.body) actions.onEdit(message, body);
          }}
          onCancel={() => {
            actions.setEditing(null);
          }}
        />
      ) : (
        <Body body={message.body} mentions={message.mentions} />
      )}
      {!message.deleted && message.reactions.length > 0 && (
        <ul className="reactions" aria-label="Reactions">
          {message.reactions.map((reaction) => {
            const mine = reaction.users.includes(actions.me);
            const who = reaction.users.join(", ") + (reaction.count > reaction.users.length ? " and others" : "");
            return (
              <li key={reaction.emoji}>
                <button
                  type="button"
                  className={mine ? "reaction mine" : "reaction"}
                  aria-pressed={mine}
                  aria-label={`${reaction.emoji} ${reaction.count}: ${who}`}
                  title={who}
                  onClick={() => {
                    actions.onReact(message, reaction.emoji, !mine);
                  }}
                >
                  {reaction.emoji} {reaction.count}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {!message.deleted && !editing && !deleting && (
        <div className="actions" role="toolbar" aria-label={`Actions for ${message.author}'s message`}>
          <button
            type="button"
            className="action"
            aria-expanded={picking}
            onClick={() => {
              setPicking(!picking);
            }}
          >
            React
          </button>
          <button
            type="button"
            className="action"
            onClick={() => {
              actions.onQuote(message);
            }}
          >
            Reply
          </button>
          {own && (
            <button
              type="button"
              className="action"
              onClick={() => {
                actions.setEditing(message.seq);
              }}
            >
              Edit
            </button>
          )}
          {canDelete && (
            <button
              type="button"
              className="action danger"
              onClick={() => {
                setConfirming(true);
              }}
            >
              Delete
            </button>
          )}
        </div>
      )}
      {picking && (
        <EmojiPicker
          onPick={(emoji) => {
            setPicking(false);
            setPinned(false);
            const has = message.reactions.some((r) => r.emoji === emoji && r.users.includes(actions.me));
            actions.onReact(message, emoji, !has);
          }}
          onClose={() => {
            setPicking(false);
          }}
        />
      )}
      {confirming && (
        <div className="confirm" role="group" aria-label="Delete this message?">
          <span>Delete this message for everyone?</span>
          <ConfirmButtons
            onConfirm={() => {
              setConfirming(false);
              setPinned(false);
              actions.onDelete(message);
            }}
            onCancel={() => {
              setConfirming(false);
            }}
          />
        </div>
      )}
    </li>
  );
}

function Edited({ at }: { at: number }) {
  const when = fullFormat.format(new Date(at));
  return (
    <span className="edited" title={`edited ${when}`}>
      (edited)
    </span>
  );
}

/** The body as formatted text; a code block's Copy button copies it. */
function Body({ body, mentions }: { body: string; mentions: string[] }) {
  const html = useMemo(() => renderBody(body, mentions), [body, mentions]);
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = element.current;
    if (!node) return;
    // One listener for every Copy button: they are made by the renderer, not by React.
    const copy = (event: MouseEvent) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-copy]");
      const code = button?.parentElement?.querySelector("code")?.textContent;
      if (!button || typeof code !== "string") return;
      // No clipboard outside a secure context (a plain-HTTP address other than localhost).
      if (!("clipboard" in navigator)) {
        button.textContent = "Select to copy";
        return;
      }
      void navigator.clipboard.writeText(code).then(
        () => {
          button.textContent = "Copied";
        },
        () => {
          button.textContent = "Copy failed";
        },
      );
    };
    node.addEventListener("click", copy);
    return () => {
      node.removeEventListener("click", copy);
    };
  }, []);
  // Safe: renderBody escapes everything it does not itself make (markdown.ts; markdown.test.ts).
  return <div className="body" ref={element} dangerouslySetInnerHTML={{ __html: html }} />;
}

function EditBox({ body, onSave, onCancel }: { body: string; onSave: (body: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(body);
  const box = useAutoGrow(text);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    element.focus();
    element.setSelectionRange(element.value.length, element.value.length);
  }, [box]);
  function save() {
    const trimmed = text.trim();
    if (trimmed) onSave(trimmed);
    else onCancel();
  }
  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    } else if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      save();
    }
  }
  return (
    <form
      className="edit-box"
      onSubmit={(event) => {
        event.preventDefault();
        save();
      }}
    >
      <textarea
        ref={box}
        aria-label="Edit message"
        value={text}
        rows={1}
        onChange={(event) => {
          setText(event.target.value);
        }}
        onKeyDown={onKeyDown}
      />
      <p className="hint">
        Enter saves, Esc cancels.{" "}
        <button type="submit" className="link small">
          Save
        </button>{" "}
        <button type="button" className="link small" onClick={onCancel}>
          Cancel
        </button>
      </p>
    </form>
  );
}

function ConfirmButtons({ onConfirm, onCancel }: { onConfirm: () => void; onCancel: () => void }) {
  const first = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => {
    first.current?.focus();
  }, []);
  return (
    <>
      <button type="button" className="danger small" ref={first} onClick={onConfirm}>
        Delete
      </button>
      <button type="button" className="link small" onClick={onCancel}>
        Cancel
      </button>
    </>
  );
}

import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";

import { useAutoGrow } from "../composer/autoGrow";
import { isEmojiOnly } from "../emoji/emoji";
import { EmojiPicker } from "../emoji/EmojiPicker";
import { Attachments } from "../files/Attachments";
import { renderBody } from "../markdown";
import { shownName } from "../people/People";
import { Avatar, PersonName } from "../people/PersonName";
import { usePeople, usePerson } from "../people/usePeople";
import type { ChatMessage, FileRef } from "../socket/protocol";
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
  /** Where the user continues once a message's own controls are gone (it was deleted). */
  focusComposer: () => void;
  /** Show one of the room's images at full size (set by the message list). */
  openImage?: (file: FileRef) => void;
}

export function MessageRow({
  shown,
  continued,
  mentionsMe,
  focused = false,
  actions,
}: {
  shown: Shown;
  /** Follows a message by the same author: name and time are not shown again (but read out). */
  continued: boolean;
  mentionsMe: boolean;
  /** The message a search opened the room at: highlighted. */
  focused?: boolean;
  actions: MessageActions;
}) {
  const { message, saving, deleting } = shown;
  const author = usePerson(message.author);
  const own = message.author === actions.me && !message.bot;
  const editing = actions.editing === message.seq && own && !message.deleted;
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [pinned, setPinned] = useState(false); // actions shown after a long press (touch)
  const reactButton = useRef<HTMLButtonElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const date = new Date(message.ts);
  const full = fullFormat.format(date);
  const classes = [
    "message",
    own ? "own" : "",
    continued ? "continued" : "",
    mentionsMe ? "mentions-me" : "",
    focused ? "focused" : "",
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
        {/* A continued message's name and time are read out, not shown (the time shows on hover). */}
        {!continued && <Avatar name={message.author} profile={author} />}
        <PersonName name={message.author} className={continued ? "author visually-hidden" : "author"} />
        {message.bot && !continued && <span className="bot-badge">bot</span>}
        <time
          dateTime={date.toISOString()}
          title={full}
          aria-label={full}
          className={continued ? "time visually-hidden" : "time"}
        >
          {timeFormat.format(date)}
        </time>
        {message.edited_at !== null && !message.deleted && <Edited at={message.edited_at} />}
        {saving && <span className="state">saving…</span>}
        {deleting && <span className="state">deleting…</span>}
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
        message.body && <Body body={message.body} mentions={message.mentions} />
      )}
      {!message.deleted && message.files.length > 0 && (
        <Attachments
          files={message.files}
          onOpen={(file) => {
            actions.openImage?.(file);
          }}
        />
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
            ref={reactButton}
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
              ref={deleteButton}
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
          label="Pick a reaction"
          buttonLabel={(e) => `React with ${e.emoji}`}
          onPick={(emoji) => {
            setPicking(false);
            setPinned(false);
            const has = message.reactions.some((r) => r.emoji === emoji && r.users.includes(actions.me));
            actions.onReact(message, emoji, !has);
            reactButton.current?.focus(); // where the user was: the next reaction is a key away
          }}
          onClose={() => {
            setPicking(false);
            reactButton.current?.focus();
          }}
        />
      )}
      {confirming && (
        <Confirm
          onConfirm={() => {
            setConfirming(false);
            setPinned(false);
            actions.onDelete(message);
            actions.focusComposer(); // the message's own controls are going
          }}
          onCancel={() => {
            setConfirming(false);
            deleteButton.current?.focus();
          }}
        />
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

// Bodies taller than this fold to FOLDED_REM with "Show more": a 200-line log is one screen.
const FOLD_OVER_REM = 30;

/** The body as formatted text: a code block's Copy button copies it, code is highlighted (the
 * highlighter is loaded on first need), a body of only emoji shows large, a long one folds. */
function Body({ body, mentions }: { body: string; mentions: string[] }) {
  const html = useMemo(() => renderBody(body, mentions), [body, mentions]);
  const people = usePeople(mentions.filter((name) => name !== "@room"));
  const emojiOnly = useMemo(() => isEmojiOnly(body), [body]);
  const element = useRef<HTMLDivElement>(null);
  const [tall, setTall] = useState(false);
  const [open, setOpen] = useState(false);
  const id = useId();

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

  useEffect(() => {
    const node = element.current;
    if (!node?.querySelector(".code-block")) return;
    let current = true;
    void import("./highlight").then(({ highlightWithin }) => {
      if (current) highlightWithin(node);
    });
    return () => {
      current = false;
    };
  }, [html]);

  // A mention shows the display name, the login name (what was typed) on hover.
  useLayoutEffect(() => {
    const node = element.current;
    if (!node || !people) return;
    for (const span of node.querySelectorAll<HTMLElement>("span.mention")) {
      const login = span.dataset.user ?? span.textContent.slice(1);
      if (login === "room") continue;
      span.dataset.user = login;
      span.title = `@${login}`;
      span.textContent = `@${shownName(login, people.get(login))}`;
    }
  });

  useLayoutEffect(() => {
    const node = element.current;
    if (!node) return;
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    setTall(node.scrollHeight > FOLD_OVER_REM * rem);
  }, [html]);

  const folded = tall && !open;
  return (
    <>
      {/* Safe: renderBody escapes everything it does not itself make (markdown.ts; markdown.test.ts). */}
      <div
        id={id}
        dir="auto"
        className={["body", emojiOnly ? "emoji-only" : "", folded ? "folded" : ""].filter(Boolean).join(" ")}
        ref={element}
        dangerouslySetInnerHTML={{ __html: html }}
      />
      {tall && (
        <button
          type="button"
          className="link small fold"
          aria-expanded={open}
          aria-controls={id}
          onClick={() => {
            setOpen(!open);
          }}
        >
          {open ? "Show less" : "Show more"}
        </button>
      )}
    </>
  );
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
      event.stopPropagation();
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
        dir="auto"
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

/** "Delete this message for everyone?" with the answer focused, in view; Esc cancels. */
function Confirm({ onConfirm, onCancel }: { onConfirm: () => void; onCancel: () => void }) {
  const group = useRef<HTMLDivElement>(null);
  const first = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => {
    first.current?.focus();
    group.current?.scrollIntoView({ block: "nearest" });
  }, []);
  return (
    // Esc from either button cancels.
    // eslint-disable-next-line jsx-a11y/no-noninteractive-element-interactions
    <div
      className="confirm"
      role="group"
      aria-label="Delete this message?"
      ref={group}
      onKeyDown={(event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          event.stopPropagation();
          onCancel();
        }
      }}
    >
      <span>Delete this message for everyone?</span>
      <button type="button" className="danger small" ref={first} onClick={onConfirm}>
        Delete
      </button>
      <button type="button" className="link small" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

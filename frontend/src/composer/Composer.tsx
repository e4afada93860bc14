import { useId, useLayoutEffect, useRef, useState, type KeyboardEvent, type SyntheticEvent } from "react";

import { useAutoGrow } from "./autoGrow";
import { matchMembers, mentionQuery } from "./mentionQuery";

const encoder = new TextEncoder();

export function Composer({
  room,
  maxBytes,
  members,
  onSend,
  onTyping,
  insert,
  onEditLast,
}: {
  room: string;
  maxBytes: number;
  /** Who can be @mentioned here (the room's members, and "room" for everyone). */
  members: string[];
  onSend: (body: string) => void;
  onTyping: () => void;
  /** Text to put before what is typed (a reply's quote); a new `n` inserts it again. */
  insert?: { text: string; n: number };
  /** Up arrow in an empty box: edit the user's last message. */
  onEditLast?: () => void;
}) {
  const [text, setText] = useState("");
  const [caret, setCaret] = useState(0);
  const [choice, setChoice] = useState(0);
  const [dismissed, setDismissed] = useState<string | null>(null);
  const box = useAutoGrow(text);
  const id = useId();
  const hintId = useId();
  const listId = useId();
  // The frame around the body costs a few hundred bytes at most.
  const tooLong = encoder.encode(text).length > maxBytes - 512;

  const typed = mentionQuery(text, caret);
  const suggestions = typed && dismissed !== text ? matchMembers(members, typed.query) : [];
  const open = suggestions.length > 0;
  const active = Math.min(choice, suggestions.length - 1);

  // Where the user will type, once the room is open (not on phones: the keyboard would cover it).
  useLayoutEffect(() => {
    if (window.matchMedia("(min-width: 701px)").matches) box.current?.focus();
  }, [box]);

  const inserted = useRef(insert?.n ?? 0);
  useLayoutEffect(() => {
    if (!insert || insert.n === inserted.current) return;
    inserted.current = insert.n;
    setText((current) => insert.text + current);
    const element = box.current;
    element?.focus();
    requestAnimationFrame(() => {
      const end = element?.value.length ?? 0;
      element?.setSelectionRange(end, end);
    });
  }, [insert, box]);


  function submit(event?: SyntheticEvent) {
    event?.preventDefault();
    const body = text.trim();
    if (!body || tooLong) return;
    onSend(body);
    setText("");
    setCaret(0);
  }

  function complete(name: string) {
    if (!typed) return;
    const inserted = `@${name} `;
    const next = text.slice(0, typed.start) + inserted + text.slice(caret);
    const at = typed.start + inserted.length;
    setText(next);
    setCaret(at);
    setChoice(0);
    requestAnimationFrame(() => {
      box.current?.setSelectionRange(at, at);
    });
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (open) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : suggestions.length - 1;
        setChoice((active + step) % suggestions.length);
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        complete(suggestions[active] ?? "");
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        setDismissed(text);
        return;
      }
    }
    if (event.key === "ArrowUp" && text === "" && onEditLast) {
      event.preventDefault();
      onEditLast();
      return;
    }
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
  }

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={id} className="visually-hidden">
        Message {room}
      </label>
      <div className="composer-box">
        {open && (
          <div id={listId} role="listbox" className="suggestions" aria-label="People to mention">
            {suggestions.map((name, index) => (
              <div
                key={name}
                id={`${listId}-${index}`}
                role="option"
                tabIndex={-1}
                aria-selected={index === active}
                className={index === active ? "active" : undefined}
                onMouseDown={(e) => {
                  e.preventDefault();
                  complete(name);
                }}
              >
                {name === "room" ? "@room (everyone here)" : `@${name}`}
              </div>
            ))}
          </div>
        )}
        <textarea
          id={id}
          ref={box}
          rows={1}
          value={text}
          placeholder={`Message ${room}`}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? `${listId}-${active}` : undefined}
          aria-describedby={hintId}
          aria-invalid={tooLong || undefined}
          onKeyDown={onKeyDown}
          onSelect={(e) => {
            setCaret(e.currentTarget.selectionStart);
          }}
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart);
            setChoice(0);
            if (e.target.value) onTyping();
          }}
        />
      </div>
      <button type="submit" disabled={!text.trim() || tooLong}>
        Send
      </button>
      <p id={hintId} className={tooLong ? "error hint" : "visually-hidden"}>
        {tooLong
          ? "This message is too long to send."
          : "Enter sends, Shift+Enter starts a new line. Type @ to mention someone. Up arrow edits your last message."}
      </p>
      <p className="format-tip" aria-hidden="true">
        **bold** · _italic_ · ~~strike~~ · `code` · ```code block``` · &gt; quote · links as they are
      </p>
    </form>
  );
}

import { useId, useLayoutEffect, useRef, useState, type KeyboardEvent, type SyntheticEvent } from "react";

import { EmojiPicker } from "../emoji/EmojiPicker";
import { StagedFiles } from "../files/StagedFiles";
import { useAutoGrow } from "./autoGrow";
import { matchMembers, mentionQuery } from "./mentionQuery";

const encoder = new TextEncoder();
const numbers = new Intl.NumberFormat();
// The frame around the body costs a few hundred bytes at most.
const FRAME_BYTES = 512;

export function Composer({
  room,
  maxBytes,
  maxUploadBytes,
  dropped,
  members,
  describe,
  draft,
  onDraft,
  onSend,
  onTyping,
  insert,
  onEditLast,
}: {
  room: string;
  maxBytes: number;
  /** The largest file the server takes (HUBBUB_MAX_UPLOAD_BYTES). */
  maxUploadBytes: number;
  /** Files dropped on the conversation; a new `n` adds them again. */
  dropped?: { files: File[]; n: number };
  /** Who can be @mentioned here (the room's members, and "room" for everyone). */
  members: string[];
  /** How a member is shown beside their @name (their display name). */
  describe?: (name: string) => string;
  /** What was typed here before and not sent (kept across room switches and reloads). */
  draft: string;
  onDraft: (text: string) => void;
  onSend: (body: string, files: File[]) => void;
  onTyping: () => void;
  /** Text to put before what is typed (a reply's quote); a new `n` inserts it again. */
  insert?: { text: string; n: number };
  /** Up arrow in an empty box: edit the user's last message. */
  onEditLast?: () => void;
}) {
  const [text, setTextState] = useState(draft);
  const [caret, setCaret] = useState(0);
  const [choice, setChoice] = useState(0);
  const [dismissed, setDismissed] = useState<string | null>(null);
  const [picking, setPicking] = useState(false);
  const [staged, setStaged] = useState<File[]>([]);
  const box = useAutoGrow(text);
  const emojiButton = useRef<HTMLButtonElement>(null);
  const filePicker = useRef<HTMLInputElement>(null);
  const hintId = useId();
  const listId = useId();
  const limit = maxBytes - FRAME_BYTES;
  const size = encoder.encode(text).length;
  const tooLong = size > limit;
  const tooLarge = staged.some((file) => file.size > maxUploadBytes);
  const sendable = (text.trim() !== "" || staged.length > 0) && !tooLong && !tooLarge;

  function stage(files: Iterable<File>) {
    const added = [...files];
    if (added.length > 0) setStaged((current) => [...current, ...added]);
  }

  const droppedSeen = useRef(dropped?.n ?? 0);
  useLayoutEffect(() => {
    if (!dropped || dropped.n === droppedSeen.current) return;
    droppedSeen.current = dropped.n;
    stage(dropped.files);
    box.current?.focus();
  }, [dropped, box]);

  const typed = mentionQuery(text, caret);
  const suggestions = typed && dismissed !== text ? matchMembers(members, typed.query, 6, describe) : [];
  const open = suggestions.length > 0;
  const active = Math.min(choice, suggestions.length - 1);

  function setText(value: string) {
    setTextState(value);
    onDraft(value);
  }

  // Where the user will type, once the room is open (not on phones: the keyboard would cover it).
  useLayoutEffect(() => {
    const element = box.current;
    if (!element || !window.matchMedia("(min-width: 701px)").matches) return;
    element.focus();
    element.setSelectionRange(element.value.length, element.value.length);
  }, [box]);

  const inserted = useRef(insert?.n ?? 0);
  useLayoutEffect(() => {
    if (!insert || insert.n === inserted.current) return;
    inserted.current = insert.n;
    const element = box.current;
    setText(insert.text + (element?.value ?? ""));
    element?.focus();
    requestAnimationFrame(() => {
      const end = element?.value.length ?? 0;
      element?.setSelectionRange(end, end);
    });
    // setText only calls onDraft, which the parent keeps stable per room.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [insert, box]);

  function submit(event?: SyntheticEvent) {
    event?.preventDefault();
    const body = text.trim();
    if (!sendable) return;
    onSend(body, staged);
    setText("");
    setCaret(0);
    setStaged([]);
  }

  function replaceAt(start: number, end: number, inserted: string) {
    const next = text.slice(0, start) + inserted + text.slice(end);
    const at = start + inserted.length;
    setText(next);
    setCaret(at);
    requestAnimationFrame(() => {
      box.current?.focus();
      box.current?.setSelectionRange(at, at);
    });
  }

  function complete(name: string) {
    if (!typed) return;
    setChoice(0);
    replaceAt(typed.start, caret, `@${name} `);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (open && !event.altKey) {
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
    const plain = !event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey;
    if (event.key === "ArrowUp" && plain && text === "" && onEditLast) {
      event.preventDefault();
      onEditLast();
      return;
    }
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
  }

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor="composer-box" className="visually-hidden">
        Message {room}
      </label>
      <StagedFiles
        files={staged}
        maxBytes={maxUploadBytes}
        onRemove={(index) => {
          setStaged(staged.filter((_, at) => at !== index));
          box.current?.focus();
        }}
      />
      <div className="composer-box">
        {/* One Shift+Tab from the message box: the room list, not eighty stops back. */}
        <a
          href="#room-filter"
          className="skip-inline"
          onClick={(event) => {
            event.preventDefault();
            document.getElementById("room-filter")?.focus();
          }}
        >
          Back to the room list
        </a>
        {open && (
          <div id={listId} role="listbox" className="suggestions" aria-label="People to mention">
            {suggestions.map((name, index) => (
              <div
                key={name}
                id={`${listId}-${index}`}
                role="option"
                tabIndex={-1}
                dir="auto"
                aria-selected={index === active}
                className={index === active ? "active" : undefined}
                onMouseDown={(e) => {
                  e.preventDefault();
                  complete(name);
                }}
              >
                {name === "room" ? "@room (everyone here)" : `@${name}`}
                {name !== "room" && describe && describe(name) !== name && <span className="muted"> {describe(name)}</span>}
              </div>
            ))}
          </div>
        )}
        {picking && (
          <EmojiPicker
            className="composer-picker"
            label="Pick an emoji"
            buttonLabel={(e) => `Insert ${e.emoji}`}
            onPick={(emoji) => {
              setPicking(false);
              const element = box.current;
              const start = element?.selectionStart ?? text.length;
              const end = element?.selectionEnd ?? text.length;
              replaceAt(start, end, emoji);
            }}
            onClose={() => {
              setPicking(false);
              emojiButton.current?.focus();
            }}
          />
        )}
        <textarea
          id="composer-box"
          ref={box}
          rows={1}
          dir="auto"
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
          onPaste={(e) => {
            // A pasted screenshot (or files copied in a file manager) goes with the message.
            if (e.clipboardData.files.length === 0) return;
            e.preventDefault();
            stage(e.clipboardData.files);
          }}
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart);
            setChoice(0);
            if (e.target.value) onTyping();
          }}
        />
        <input
          ref={filePicker}
          type="file"
          data-testid="file-picker"
          multiple
          hidden
          aria-hidden="true"
          tabIndex={-1}
          onChange={(e) => {
            stage(e.target.files ?? []);
            e.target.value = "";
            box.current?.focus();
          }}
        />
        <button
          type="button"
          className="attach-toggle"
          aria-label="Attach files"
          title="Attach files (or paste, or drop them here)"
          onClick={() => {
            filePicker.current?.click();
          }}
        >
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
            <path
              d="M16.5 6.5 8.6 14.4a2 2 0 0 0 2.8 2.8l8-8a4 4 0 0 0-5.6-5.6l-8 8a6 6 0 0 0 8.5 8.5l6.4-6.4"
              fill="none"
              stroke="currentColor"
              strokeWidth="2"
              strokeLinecap="round"
              strokeLinejoin="round"
            />
          </svg>
        </button>
        <button
          type="button"
          className="emoji-toggle"
          ref={emojiButton}
          aria-label="Emoji"
          aria-expanded={picking}
          title="Emoji"
          onClick={() => {
            setPicking(!picking);
          }}
        >
          ☺
        </button>
      </div>
      <button type="submit" disabled={!sendable}>
        Send
      </button>
      <p id={hintId} className={tooLong ? "error hint" : "visually-hidden"}>
        {tooLong
          ? `Too long to send: ${numbers.format(size)} bytes, and a message holds at most ${numbers.format(limit)}. Shorten it by ${numbers.format(size - limit)}, or send it in parts.`
          : "Enter sends, Shift+Enter starts a new line. Type @ to mention someone. Up arrow edits your last message. Paste or drop files to send them."}
      </p>
      <p className="format-tip" aria-hidden="true">
        **bold** · _italic_ · ~~strike~~ · `code` · ```code block``` · &gt; quote · 1. list · :emoji:
      </p>
    </form>
  );
}

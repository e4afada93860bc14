import { useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";

import { rememberEmoji, searchEmoji, startingEmoji, type NamedEmoji } from "./emoji";

const COLUMNS = 8;

/** Emoji to pick: the user's recent ones first, then common ones; a search by name finds any
 * of them. Opens with the search box focused and in view; Esc closes it. */
export function EmojiPicker({
  label,
  buttonLabel,
  onPick,
  onClose,
  className,
}: {
  /** What the picker is for ("Pick a reaction"). */
  label: string;
  /** Each emoji's accessible name ("React with 🎉"). */
  buttonLabel: (emoji: NamedEmoji) => string;
  onPick: (emoji: string) => void;
  onClose: () => void;
  className?: string;
}) {
  const [query, setQuery] = useState("");
  const [starting] = useState(startingEmoji);
  const found = query.trim() ? searchEmoji(query) : starting;
  const root = useRef<HTMLDivElement>(null);
  const search = useRef<HTMLInputElement>(null);
  const searchId = useId();
  const countId = useId();

  useLayoutEffect(() => {
    search.current?.focus();
    // A picker near the bottom of the list (or the window) opens where it can be seen.
    root.current?.scrollIntoView({ block: "nearest" });
  }, []);

  function pick(emoji: string) {
    rememberEmoji(emoji);
    onPick(emoji);
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onClose();
      return;
    }
    const buttons = [...(root.current?.querySelectorAll<HTMLButtonElement>(".emoji-grid button") ?? [])];
    const at = buttons.indexOf(event.target as HTMLButtonElement);
    if (event.target === search.current) {
      if (event.key === "Enter") {
        event.preventDefault();
        const first = found[0];
        if (first) pick(first.emoji);
      } else if (event.key === "ArrowDown") {
        event.preventDefault();
        buttons[0]?.focus();
      }
      return;
    }
    if (at < 0) return;
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    const next = at + step;
    if (next < 0) search.current?.focus();
    else buttons[Math.min(next, buttons.length - 1)]?.focus();
  }

  return (
    // Esc and the arrow keys from any of its controls.
    // eslint-disable-next-line jsx-a11y/no-noninteractive-element-interactions
    <div
      ref={root}
      className={["emoji-picker", className].filter(Boolean).join(" ")}
      role="group"
      aria-label={label}
      onKeyDown={onKeyDown}
    >
      <label htmlFor={searchId} className="visually-hidden">
        Search emoji
      </label>
      <input
        id={searchId}
        ref={search}
        type="search"
        placeholder="Search emoji"
        autoComplete="off"
        aria-describedby={countId}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
        }}
      />
      <div className="emoji-grid">
        {found.map((item) => (
          <button
            key={item.emoji}
            type="button"
            aria-label={buttonLabel(item)}
            title={item.name ? `:${item.name}:` : undefined}
            onClick={() => {
              pick(item.emoji);
            }}
          >
            {item.emoji}
          </button>
        ))}
      </div>
      <p id={countId} className="visually-hidden" aria-live="polite">
        {query.trim() ? `${found.length} found` : "Recent and common emoji"}
      </p>
    </div>
  );
}

import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";

import { api, ApiError, type SearchHit } from "../api";
import type { RoomMeta } from "../rooms/Directory";
import { roomLabel } from "../rooms/roomLabel";
import { suggestions } from "./operators";
import { byRoom, snippet } from "./snippet";

const SEARCH_AFTER_MS = 250; // typing pauses this long before the search is made
const PAGE = 30;

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

type Results = { query: string; hits: SearchHit[]; next: number | null; error: string | null; loading: boolean };
const NONE: Results = { query: "", hits: [], next: null, error: null, loading: false };

/** "/" (or the header's Search button): search every room the user may read. Operators are
 * offered as they type (Tab takes the first); ↑ ↓ choose a hit, Enter opens its room at it. */
export function SearchDialog({
  open,
  seed,
  directory,
  people,
  me,
  onOpen,
  onClose,
}: {
  open: boolean;
  /** What to search for on opening (from the quick switcher; `n` tells one from the next);
   * null: the last search again. */
  seed: { text: string; n: number } | null;
  directory: Record<string, RoomMeta>;
  /** Names to offer after from: (those online in the room on screen, and the user's DMs). */
  people: string[];
  me: string;
  onOpen: (room: string, seq: number) => void;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<Results>(NONE);
  const [active, setActive] = useState(0);
  const ids = useId();
  const [now] = useState(() => Date.now()); // "today", for before: and after:
  const [seeded, setSeeded] = useState(0);
  if (seed && seed.n !== seeded) {
    setSeeded(seed.n);
    setQuery(seed.text);
  }

  useLayoutEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      input.current?.focus();
      input.current?.select(); // ready to refine or replace
    }
    if (!open && element.open) element.close();
  }, [open]);

  // Search as the user types, once they pause; an answer to an older query is dropped.
  useEffect(() => {
    const q = query.trim();
    if (!open || !q) return;
    const request = { cancelled: false };
    const timer = window.setTimeout(() => {
      setResults((r) => ({ ...r, loading: true }));
      api
        .search(q, null, PAGE)
        .then((page) => {
          if (request.cancelled) return;
          setResults({ query: q, hits: page.hits, next: page.next_before, error: null, loading: false });
          setActive(0);
        })
        .catch((error: unknown) => {
          if (request.cancelled) return;
          const text = error instanceof ApiError ? error.message : "The search did not reach the server.";
          setResults({ query: q, hits: [], next: null, error: text, loading: false });
        });
    }, SEARCH_AFTER_MS);
    return () => {
      request.cancelled = true;
      window.clearTimeout(timer);
    };
  }, [open, query]);

  async function more() {
    const { query: q, next } = results;
    if (next === null) return;
    setResults((r) => ({ ...r, loading: true }));
    try {
      const page = await api.search(q, next, PAGE);
      setResults((r) => (r.query === q ? { ...r, hits: [...r.hits, ...page.hits], next: page.next_before, loading: false } : r));
    } catch (error: unknown) {
      const text = error instanceof ApiError ? error.message : "The search did not reach the server.";
      setResults((r) => ({ ...r, error: text, loading: false }));
    }
  }

  const offered = open
    ? suggestions(
        query,
        Object.values(directory)
          .filter((room) => room.visibility !== "dm")
          .map((room) => room.name),
        [...new Set([me, ...people, ...Object.values(directory).flatMap((room) => (room.visibility === "dm" ? room.members : []))])],
        now,
      )
    : [];
  const q = query.trim();
  const shown = q ? results : NONE; // an emptied box shows nothing, whatever comes back late
  const groups = byRoom(shown.hits);
  const ordered = groups.flatMap((group) => group.hits.map(({ hit }) => hit));
  const current = Math.min(active, ordered.length - 1);

  function choose(hit: SearchHit | undefined) {
    if (hit) onOpen(hit.message.room, hit.message.seq);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    const first = offered[0];
    if (event.key === "Tab" && !event.shiftKey && first) {
      event.preventDefault();
      setQuery(first.query);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (ordered.length === 0) return;
      const step = event.key === "ArrowDown" ? 1 : ordered.length - 1;
      setActive((current + step) % ordered.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (results.query === query.trim()) choose(ordered[current]);
    }
  }

  const listId = `${ids}-hits`;
  return (
    <dialog ref={dialog} className="card dialog switcher search" aria-labelledby={`${ids}-title`} onClose={onClose}>
      <h2 id={`${ids}-title`}>Search</h2>
      <label htmlFor={`${ids}-input`} className="visually-hidden">
        Search messages
      </label>
      <input
        id={`${ids}-input`}
        ref={input}
        type="search"
        role="combobox"
        aria-expanded={ordered.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={ordered.length > 0 ? `${listId}-${current}` : undefined}
        aria-describedby={`${ids}-operators`}
        placeholder='Words, "a phrase", from:, in:, has:link…'
        autoComplete="off"
        spellCheck={false}
        maxLength={500}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
        }}
        onKeyDown={onKeyDown}
      />
      <ul id={`${ids}-operators`} className="operators" aria-label="Operators">
        {offered.map((suggestion) => (
          <li key={suggestion.label}>
            <button
              type="button"
              className="link small"
              onClick={() => {
                setQuery(suggestion.query);
                input.current?.focus();
              }}
            >
              {suggestion.label}
            </button>{" "}
            <span className="muted small">{suggestion.note}</span>
          </li>
        ))}
      </ul>
      <div id={listId} role="listbox" aria-label="Messages found" className="switcher-list search-hits" data-testid="search-hits">
        {groups.map((group) => (
          <div key={group.room} role="group" aria-label={roomLabel(directory[group.room], group.room, me)}>
            <p className="search-room" dir="auto" aria-hidden="true">
              {roomLabel(directory[group.room], group.room, me)}
            </p>
            {group.hits.map(({ hit, index }) => (
              <div
                key={`${hit.message.room}-${hit.message.seq}`}
                id={`${listId}-${index}`}
                role="option"
                tabIndex={-1}
                aria-selected={index === current}
                className={index === current ? "search-hit active" : "search-hit"}
                data-testid="search-hit"
                onMouseDown={(e) => {
                  e.preventDefault();
                  choose(hit);
                }}
              >
                <span className="meta small">
                  <strong dir="auto">{hit.message.author}</strong>{" "}
                  <time className="muted" dateTime={new Date(hit.message.ts).toISOString()}>
                    {timeFormat.format(hit.message.ts)}
                  </time>
                </span>
                <span className="search-line" dir="auto">
                  {snippet(hit.message.body, hit.marks).map((piece, i) => (piece.marked ? <mark key={i}>{piece.text}</mark> : piece.text))}
                </span>
              </div>
            ))}
          </div>
        ))}
      </div>
      <p className="muted small" aria-live="polite" data-testid="search-status">
        {shown.error
          ? shown.error
          : shown.loading
            ? "Searching…"
            : q && shown.query === q
              ? shown.hits.length === 0
                ? "Nothing found."
                : `${shown.hits.length}${shown.next === null ? "" : "+"} found`
              : ""}
      </p>
      {shown.next !== null && !shown.loading && (
        <button type="button" className="link small" onClick={() => void more()}>
          More results
        </button>
      )}
      <p className="hint muted">Tab takes an operator, ↑ ↓ choose, Enter opens, Esc closes</p>
    </dialog>
  );
}

import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";

import { api } from "../api";
import type { RoomMeta } from "../rooms/Directory";
import { fuzzyFilter } from "../rooms/fuzzy";
import { roomLabel } from "../rooms/roomLabel";

type Choice =
  | { kind: "room"; room: string; label: string; note: string }
  | { kind: "person"; user: string; label: string; note: string }
  | { kind: "search"; query: string; label: string; note: string };

const PEOPLE_LOOKUP_MS = 120; // typing pauses this long before people are looked up

/** Ctrl/Cmd+K: type a few letters of a room, a conversation or a person, Enter opens it. */
export function QuickSwitcher({
  open,
  directory,
  online,
  me,
  onRoom,
  onPerson,
  onSearch,
  onClose,
}: {
  open: boolean;
  directory: Record<string, RoomMeta>;
  /** Who is online in the room on screen: people to offer before any lookup. */
  online: string[];
  me: string;
  onRoom: (room: string) => void;
  onPerson: (user: string) => void;
  /** Search the messages for what was typed (the last choice, always there). */
  onSearch: (query: string) => void;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const [people, setPeople] = useState<string[]>([]);
  const ids = useId();

  useLayoutEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      setQuery("");
      setActive(0);
      element.showModal();
      input.current?.focus();
    }
    if (!open && element.open) element.close();
  }, [open]);

  useEffect(() => {
    if (!open || !query.trim()) return;
    const request = { cancelled: false };
    const timer = window.setTimeout(() => {
      api
        .users(query.trim())
        .then((names) => {
          if (!request.cancelled) setPeople(names);
        })
        .catch(() => undefined);
    }, PEOPLE_LOOKUP_MS);
    return () => {
      request.cancelled = true;
      window.clearTimeout(timer);
    };
  }, [open, query]);

  const rooms: Choice[] = Object.values(directory)
    .filter((room) => !room.archived)
    .map((room) => ({
      kind: "room",
      room: room.name,
      label: roomLabel(room, room.name, me),
      note: room.visibility === "dm" ? "direct message" : room.member ? "room" : "room, not joined",
    }));
  // A person already in a conversation of two with the user is that conversation.
  const withDm = new Set(
    Object.values(directory)
      .filter((room) => room.visibility === "dm" && room.members.length === 2)
      .flatMap((room) => room.members),
  );
  const persons: Choice[] = [...new Set([...online, ...people])]
    .filter((user) => user !== me && !withDm.has(user))
    .map((user) => ({ kind: "person", user, label: user, note: "person" }));
  const typed = query.trim();
  const searchChoice: Choice = { kind: "search", query: typed, label: `Search messages for “${typed}”`, note: "/" };
  const choices = typed
    ? [...fuzzyFilter(query, [...rooms, ...persons], (choice) => choice.label), searchChoice]
    : rooms.filter((choice) => directory[choice.kind === "room" ? choice.room : ""]?.member).slice(0, 12);
  const current = Math.min(active, choices.length - 1);

  function choose(choice: Choice | undefined) {
    if (!choice) return;
    if (choice.kind === "room") onRoom(choice.room);
    else if (choice.kind === "person") onPerson(choice.user);
    else onSearch(choice.query);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (choices.length === 0) return;
      const step = event.key === "ArrowDown" ? 1 : choices.length - 1;
      setActive((current + step) % choices.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      choose(choices[current]);
    }
  }

  const listId = `${ids}-list`;
  return (
    <dialog ref={dialog} className="card dialog switcher" aria-labelledby={`${ids}-title`} onClose={onClose}>
      <h2 id={`${ids}-title`}>Jump to</h2>
      <label htmlFor={`${ids}-input`} className="visually-hidden">
        A room, a conversation or a person
      </label>
      <input
        id={`${ids}-input`}
        ref={input}
        role="combobox"
        aria-expanded={choices.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={choices.length > 0 ? `${listId}-${current}` : undefined}
        placeholder="A room, a conversation or a person"
        autoComplete="off"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      <div id={listId} role="listbox" aria-label="Matches" className="switcher-list">
        {choices.map((choice, index) => (
          <div
            key={choice.kind === "room" ? `r${choice.room}` : choice.kind === "person" ? `p${choice.user}` : "search"}
            id={`${listId}-${index}`}
            role="option"
            tabIndex={-1}
            aria-selected={index === current}
            className={index === current ? "active" : undefined}
            onMouseDown={(e) => {
              e.preventDefault();
              choose(choice);
            }}
          >
            <span dir="auto">{choice.label}</span>
            <span className="muted small"> {choice.note}</span>
          </div>
        ))}
      </div>
      {typed && choices.length === 1 && <p className="muted">No room or person matches.</p>}
      <p className="hint muted">↑ ↓ to choose, Enter to open, Esc to close</p>
    </dialog>
  );
}

import { useId, useState, type ReactNode, type SyntheticEvent } from "react";

import { ApiError } from "../api";
import { PersonName } from "../people/PersonName";
import { newMeta, type RoomMeta } from "./Directory";
import { roomLabel } from "./roomLabel";
import { SECTION_TITLES, sections, type SectionName } from "./sections";

const COLLAPSED_KEY = "hubbub.sidebar.collapsed";

function loadCollapsed(): SectionName[] {
  try {
    const saved: unknown = JSON.parse(window.localStorage.getItem(COLLAPSED_KEY) ?? "[]");
    return Array.isArray(saved) ? saved.filter((s): s is SectionName => s === "unread" || s === "rooms" || s === "direct") : [];
  } catch {
    return [];
  }
}

/** The sidebar: a filter, the user's rooms and direct messages in sections that fold (what is
 * unread first), Browse rooms for the rest, a new room, and who is online here. */
export function RoomList({
  directory,
  active,
  kept,
  drafts,
  pattern,
  users,
  online,
  live,
  me,
  muted,
  onSelect,
  onCreate,
  onNewMessage,
  onMessage,
  onBrowse,
}: {
  directory: Record<string, RoomMeta>;
  active: string;
  /** An unread room opened just now: it stays in Unread while it is on screen. */
  kept: string | null;
  /** Rooms with something typed and not sent. */
  drafts: ReadonlySet<string>;
  pattern: string;
  users: string[];
  /** How many are online: more than `users` when the room has too many to list. */
  online: number;
  /** False while disconnected: who was online is shown greyed, as of the last connection. */
  live: boolean;
  me: string;
  muted: string[];
  onSelect: (room: string) => void;
  onCreate: (room: string, priv: boolean) => Promise<void>;
  onNewMessage: () => void;
  onMessage: (user: string) => void;
  onBrowse: () => void;
}) {
  const [name, setName] = useState("");
  const [priv, setPriv] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState("");
  const [collapsed, setCollapsed] = useState(loadCollapsed);
  const inputId = useId();
  const privateId = useId();
  const errorId = useId();
  const ids = useId();

  async function create(event: SyntheticEvent) {
    event.preventDefault();
    const wanted = name.trim().toLowerCase();
    if (!new RegExp(pattern).test(wanted)) {
      setError("Use 1–32 lowercase letters, digits, '-' or '_', starting with a letter or digit.");
      return;
    }
    try {
      await onCreate(wanted, priv);
      setName("");
      setPriv(false);
      setError(null);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : "The server could not be reached; try again.");
    }
  }

  function toggle(section: SectionName) {
    const next = collapsed.includes(section) ? collapsed.filter((s) => s !== section) : [...collapsed, section];
    setCollapsed(next);
    try {
      window.localStorage.setItem(COLLAPSED_KEY, JSON.stringify(next));
    } catch {
      // storage off: folded for this page only
    }
  }

  const listed = sections(directory, active, me, newMeta(active, active.startsWith("dm-") ? "dm" : "public"), kept, filter);
  const filtering = filter.trim() !== "";

  const entry = (room: RoomMeta) => {
    // Direct messages are all for the user: every unread one counts as a mention.
    const mentions = room.visibility === "dm" ? room.unread : room.mentions;
    const unread = room.unread > 0 && room.name !== active;
    const classes = ["room", room.name === active ? "active" : "", unread ? "unread" : ""].filter(Boolean);
    return (
      <li key={room.name}>
        <button
          type="button"
          className={classes.join(" ")}
          aria-current={room.name === active ? "page" : undefined}
          onClick={() => {
            onSelect(room.name);
          }}
        >
          <span className="room-name" dir="auto">
            {roomLabel(room, room.name, me)}
          </span>
          {room.visibility === "private" && <span className="badge"> private</span>}
          {room.archived && <span className="badge"> archived</span>}
          {muted.includes(room.name) && <span className="badge"> muted</span>}
          {drafts.has(room.name) && room.name !== active && (
            <span className="badge draft" title="Something typed here is not sent yet">
              {" "}
              draft
            </span>
          )}
          {unread && mentions > 0 && (
            <span className="count mention" data-testid="mention-count">
              <span className="visually-hidden">, mentions: </span>
              {mentions > 999 ? "999+" : mentions}
            </span>
          )}
          {unread && mentions === 0 && (
            <span className="count" data-testid="unread-count">
              <span className="visually-hidden">, unread: </span>
              {room.unread > 999 ? "999+" : room.unread}
            </span>
          )}
        </button>
      </li>
    );
  };

  const section = (which: SectionName, rooms: RoomMeta[], footer?: ReactNode) => {
    // Unread shows only while something is; the others always, to say where things go.
    if (which === "unread" && rooms.length === 0) return null;
    const open = filtering || !collapsed.includes(which);
    const headingId = `${ids}-${which}`;
    const listId = `${ids}-${which}-list`;
    return (
      <section className="room-section" aria-labelledby={headingId}>
        <h3 id={headingId}>
          <button
            type="button"
            className="section-toggle"
            aria-expanded={open}
            aria-controls={listId}
            onClick={() => {
              toggle(which);
            }}
          >
            <span className="chevron" aria-hidden="true">
              {open ? "▾" : "▸"}
            </span>
            {SECTION_TITLES[which]}
          </button>
        </h3>
        {open && (
          <ul className="rooms" id={listId}>
            {rooms.map(entry)}
          </ul>
        )}
        {footer}
      </section>
    );
  };

  return (
    <aside className="sidebar" id="room-drawer">
      <nav aria-labelledby="rooms-heading">
        <h2 id="rooms-heading" className="visually-hidden">
          Rooms and direct messages
        </h2>
        <div className="room-tools">
          <label htmlFor="room-filter" className="visually-hidden">
            Filter rooms
          </label>
          <input
            id="room-filter"
            type="search"
            placeholder="Filter rooms"
            autoComplete="off"
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value);
            }}
            onKeyDown={(e) => {
              if (e.key === "Escape" && filter) {
                e.preventDefault();
                setFilter("");
              }
            }}
          />
          <button type="button" className="link" onClick={onBrowse}>
            Browse rooms
          </button>
        </div>
        {section("unread", listed.unread)}
        {section("rooms", listed.rooms)}
        {section(
          "direct",
          listed.direct,
          <button type="button" className="link" onClick={onNewMessage}>
            New message
          </button>,
        )}
        {filtering && listed.unread.length + listed.rooms.length + listed.direct.length === 0 && (
          <p className="muted small">
            Nothing here is called that.{" "}
            <button type="button" className="link small" onClick={onBrowse}>
              Browse rooms
            </button>
          </p>
        )}
        <form className="new-room" onSubmit={(e) => void create(e)}>
          <label htmlFor={inputId}>New room</label>
          <div className="row">
            <input
              id={inputId}
              value={name}
              placeholder="room-name"
              aria-describedby={error ? errorId : undefined}
              aria-invalid={error ? true : undefined}
              onChange={(e) => {
                setName(e.target.value);
              }}
            />
            <button type="submit">Create</button>
          </div>
          <div className="check">
            <input
              id={privateId}
              type="checkbox"
              checked={priv}
              onChange={(e) => {
                setPriv(e.target.checked);
              }}
            />
            <label htmlFor={privateId}>Private: only people you add</label>
          </div>
          {error && (
            <p id={errorId} className="error" role="alert">
              {error}
            </p>
          )}
        </form>
      </nav>
      <section aria-labelledby="online-heading" className={live ? "presence" : "presence stale"}>
        <h2 id="online-heading">{live ? `Online (${Math.max(online, users.length)})` : "Online when last connected"}</h2>
        <ul data-testid="presence">
          {users.map((user) => (
            <li key={user}>
              <span className={live ? "dot online" : "dot"} aria-hidden="true" />
              <PersonName name={user} />
              {user === me ? (
                <span className="muted"> (you)</span>
              ) : (
                <button
                  type="button"
                  className="link small"
                  aria-label={`Message ${user}`}
                  onClick={() => {
                    onMessage(user);
                  }}
                >
                  Message
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>
    </aside>
  );
}

import { useId, useState, type SyntheticEvent } from "react";

import { ApiError } from "../api";
import { newMeta, type RoomMeta } from "./Directory";
import { roomLabel } from "./roomLabel";

export function RoomList({
  directory,
  active,
  pattern,
  users,
  live,
  me,
  muted,
  onSelect,
  onCreate,
  onNewMessage,
  onMessage,
}: {
  directory: Record<string, RoomMeta>;
  active: string;
  pattern: string;
  users: string[];
  /** False while disconnected: who was online is shown greyed, as of the last connection. */
  live: boolean;
  me: string;
  muted: string[];
  onSelect: (room: string) => void;
  onCreate: (room: string, priv: boolean) => Promise<void>;
  onNewMessage: () => void;
  onMessage: (user: string) => void;
}) {
  const [name, setName] = useState("");
  const [priv, setPriv] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const privateId = useId();
  const errorId = useId();

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

  const all = Object.values(directory);
  const rooms = all.filter((room) => room.visibility !== "dm");
  if (!directory[active] && !active.startsWith("dm-")) {
    rooms.push(newMeta(active, "public"));
  }
  rooms.sort((a, b) => a.name.localeCompare(b.name));
  const direct = all
    .filter((room) => room.visibility === "dm")
    .sort((a, b) => roomLabel(a, a.name, me).localeCompare(roomLabel(b, b.name, me)));

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
          <span className="room-name">{roomLabel(room, room.name, me)}</span>
          {room.visibility === "private" && <span className="badge"> private</span>}
          {muted.includes(room.name) && <span className="badge"> muted</span>}
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

  return (
    <aside className="sidebar" id="room-drawer">
      <nav aria-labelledby="rooms-heading">
        <h2 id="rooms-heading">Rooms</h2>
        <ul className="rooms">{rooms.map(entry)}</ul>
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
      <nav aria-labelledby="dms-heading">
        <h2 id="dms-heading">Direct messages</h2>
        <ul className="rooms">{direct.map(entry)}</ul>
        <button type="button" className="link" onClick={onNewMessage}>
          New message
        </button>
      </nav>
      <section aria-labelledby="online-heading" className={live ? "presence" : "presence stale"}>
        <h2 id="online-heading">{live ? `Online (${users.length})` : "Online when last connected"}</h2>
        <ul data-testid="presence">
          {users.map((user) => (
            <li key={user}>
              <span className={live ? "dot online" : "dot"} aria-hidden="true" />
              {user}
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

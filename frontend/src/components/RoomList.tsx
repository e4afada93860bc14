import { useId, useState, type SyntheticEvent } from "react";

export function RoomList({
  rooms,
  active,
  pattern,
  users,
  me,
  onSelect,
  onCreate,
}: {
  rooms: string[];
  active: string;
  pattern: string;
  users: string[];
  me: string;
  onSelect: (room: string) => void;
  onCreate: (room: string) => Promise<void>;
}) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const errorId = useId();

  async function create(event: SyntheticEvent) {
    event.preventDefault();
    const wanted = name.trim().toLowerCase();
    if (!new RegExp(pattern).test(wanted)) {
      setError("Use 1–32 lowercase letters, digits, '-' or '_', starting with a letter or digit.");
      return;
    }
    try {
      await onCreate(wanted);
      setName("");
      setError(null);
    } catch (caught) {
      setError(`Could not create the room: ${String(caught)}`);
    }
  }

  const shown = rooms.includes(active) ? rooms : [...rooms, active].sort();
  return (
    <aside className="sidebar">
      <nav aria-labelledby="rooms-heading">
        <h2 id="rooms-heading">Rooms</h2>
        <ul className="rooms">
          {shown.map((room) => (
            <li key={room}>
              <button
                type="button"
                className={room === active ? "room active" : "room"}
                aria-current={room === active ? "page" : undefined}
                onClick={() => {
                  onSelect(room);
                }}
              >
                # {room}
              </button>
            </li>
          ))}
        </ul>
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
          {error && (
            <p id={errorId} className="error" role="alert">
              {error}
            </p>
          )}
        </form>
      </nav>
      <section aria-labelledby="online-heading" className="presence">
        <h2 id="online-heading">Online ({users.length})</h2>
        <ul data-testid="presence">
          {users.map((user) => (
            <li key={user}>
              <span className="dot online" aria-hidden="true" />
              {user}
              {user === me && <span className="muted"> (you)</span>}
            </li>
          ))}
        </ul>
      </section>
    </aside>
  );
}

import { useEffect, useRef, useState, type SyntheticEvent } from "react";

import { api, ApiError, type RoomSummary } from "../api";
import { UserPicker } from "./UserPicker";

/** "New message": pick 1–7 people; the same people always get the same conversation. */
export function NewMessageDialog({
  me,
  open,
  onClose,
  onOpened,
}: {
  me: string;
  open: boolean;
  onClose: () => void;
  onOpened: (room: RoomSummary) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [name, setName] = useState("");
  const [people, setPeople] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);

  function add() {
    const wanted = name.trim();
    if (wanted && wanted !== me && !people.includes(wanted)) setPeople([...people, wanted]);
    setName("");
  }

  async function start(event: SyntheticEvent) {
    event.preventDefault();
    const everyone = name.trim() ? [...people, name.trim()] : people;
    if (everyone.length === 0) {
      setError("Add someone to write to.");
      return;
    }
    try {
      onOpened(await api.directMessage(everyone));
      setPeople([]);
      setName("");
      setError(null);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : "The server could not be reached; try again.");
    }
  }

  return (
    <dialog ref={dialog} className="card dialog" aria-labelledby="new-message-title" onClose={onClose}>
      <form onSubmit={(e) => void start(e)}>
        <h2 id="new-message-title">New message</h2>
        {people.length > 0 && (
          <ul className="chips" aria-label="To">
            {people.map((person) => (
              <li key={person}>
                {person}{" "}
                <button
                  type="button"
                  className="link"
                  aria-label={`Remove ${person}`}
                  onClick={() => {
                    setPeople(people.filter((p) => p !== person));
                  }}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <UserPicker label="To" value={name} onChange={setName} exclude={[me, ...people]} />
        <div className="row">
          <button type="button" className="secondary" onClick={add} disabled={!name.trim()}>
            Add another
          </button>
          <button type="submit">Open conversation</button>
          <button type="button" className="link" onClick={onClose}>
            Cancel
          </button>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </dialog>
  );
}

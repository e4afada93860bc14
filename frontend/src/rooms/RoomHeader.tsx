import { useId, useState, type RefObject, type SyntheticEvent } from "react";

import { api, ApiError } from "../api";
import type { RoomMeta } from "./Directory";
import { roomLabel } from "./roomLabel";

/** The room's name and topic, and what its people may do with it: leave it, the owner edits
 * the topic, the owner or an admin archives it. */
export function RoomHeader({
  room,
  meta,
  me,
  admin,
  defaultRoom,
  membersOpen,
  membersButton,
  muted,
  onToggleMute,
  onToggleMembers,
  onLeft,
}: {
  room: string;
  meta: RoomMeta | undefined;
  me: string;
  admin: boolean;
  defaultRoom: string;
  membersOpen: boolean;
  /** The Members button: where focus goes back when the member list closes. */
  membersButton: RefObject<HTMLButtonElement | null>;
  muted: boolean;
  onToggleMute: () => void;
  onToggleMembers: () => void;
  onLeft: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [topic, setTopic] = useState("");
  const [error, setError] = useState<string | null>(null);
  const topicId = useId();
  const owner = meta?.owner === me;
  const isDm = meta?.visibility === "dm";

  async function act(what: () => Promise<unknown>) {
    try {
      await what();
      setError(null);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : "The server could not be reached; try again.");
    }
  }

  function saveTopic(event: SyntheticEvent) {
    event.preventDefault();
    setEditing(false);
    void act(() => api.updateRoom(room, { topic }));
  }

  return (
    <header className="room-header">
      <div className="room-heading">
        <h2 id="room-title" className="room-title">
          <span dir="auto">{roomLabel(meta, room, me)}</span>
          {meta?.visibility === "private" && <span className="badge"> private</span>}
          {meta?.archived && <span className="badge"> archived</span>}
        </h2>
        {editing ? (
          <form className="row topic-form" onSubmit={saveTopic}>
            <label htmlFor={topicId} className="visually-hidden">
              Topic
            </label>
            <input
              id={topicId}
              dir="auto"
              value={topic}
              maxLength={250}
              onChange={(e) => {
                setTopic(e.target.value);
              }}
            />
            <button type="submit">Save</button>
          </form>
        ) : (
          meta?.topic && (
            <p className="topic" data-testid="topic" dir="auto">
              {meta.topic}
            </p>
          )
        )}
      </div>
      <div className="room-actions">
        {owner && !isDm && !editing && (
          <button
            type="button"
            className="link"
            onClick={() => {
              setTopic(meta.topic);
              setEditing(true);
            }}
          >
            Edit topic
          </button>
        )}
        <button type="button" className="link" ref={membersButton} aria-expanded={membersOpen} onClick={onToggleMembers}>
          Members
        </button>
        <button type="button" className="link" aria-pressed={muted} onClick={onToggleMute}>
          {muted ? "Unmute" : "Mute"}
        </button>
        {(owner || admin) && !isDm && room !== defaultRoom && (
          <button
            type="button"
            className="link"
            onClick={() => void act(() => api.updateRoom(room, { archived: !meta?.archived }))}
          >
            {meta?.archived ? "Unarchive" : "Archive"}
          </button>
        )}
        {room !== defaultRoom && (
          <button
            type="button"
            className="link"
            title={isDm ? "Hear nothing more of it until you open it again" : undefined}
            onClick={() =>
              void act(async () => {
                await api.removeMember(room, me);
                onLeft();
              })
            }
          >
            Leave
          </button>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </header>
  );
}

import { useEffect, useState, type SyntheticEvent } from "react";

import { api, ApiError, type MemberInfo } from "../api";
import type { RoomMeta } from "../rooms/Directory";
import { Avatar, PersonName, Status } from "./PersonName";
import { usePeople } from "./usePeople";
import { UserPicker } from "./UserPicker";

/** The server lists members by name, a page at a time (the first page is all a panel shows):
 * the people online come first, then the owner, then by name. */
function onlineFirst(members: MemberInfo[]): MemberInfo[] {
  const rank = (m: MemberInfo) => (m.online ? 0 : 2) + (m.role === "owner" ? 0 : 1);
  return [...members].sort((a, b) => rank(a) - rank(b) || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
}

/** Who is in the room, online first; its owner (or an admin) adds and removes people. */
export function MemberPanel({
  room,
  meta,
  me,
  admin,
  version,
  onMessage,
  onClose,
}: {
  room: string;
  meta: RoomMeta | undefined;
  me: string;
  admin: boolean;
  version: number;
  onMessage: (user: string) => void;
  onClose: () => void;
}) {
  const [members, setMembers] = useState<MemberInfo[]>([]);
  const [adding, setAdding] = useState("");
  const [error, setError] = useState<string | null>(null);
  const manages = admin || meta?.owner === me;
  const people = usePeople(members.map((member) => member.user));
  const fixed = meta?.visibility === "dm";

  useEffect(() => {
    const request = { cancelled: false };
    void api
      .members(room)
      .then((found) => {
        if (!request.cancelled) setMembers(onlineFirst(found));
      })
      .catch(() => undefined);
    return () => {
      request.cancelled = true;
    };
  }, [room, version]);

  async function act(what: () => Promise<unknown>) {
    try {
      await what();
      setError(null);
      setMembers(onlineFirst(await api.members(room)));
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : "The server could not be reached; try again.");
    }
  }

  function add(event: SyntheticEvent) {
    event.preventDefault();
    const user = adding.trim();
    if (!user) return;
    setAdding("");
    void act(() => api.addMember(room, user));
  }

  return (
    <section className="members" aria-labelledby="members-heading">
      <div className="panel-head">
        <h2 id="members-heading">Members ({members.length})</h2>
        <button type="button" className="link small" onClick={onClose}>
          Close
        </button>
      </div>
      <ul data-testid="members">
        {members.map((member) => (
          <li key={member.user}>
            <span className={member.online ? "dot online" : "dot"} aria-hidden="true" />
            <Avatar name={member.user} profile={people?.get(member.user)} />
            <span className="member-name">
              <PersonName name={member.user} />
              {member.role === "owner" && <span className="muted"> (owner)</span>}
              <span className="visually-hidden">{member.online ? ", online" : ", offline"}</span>
              <Status profile={people?.get(member.user)} />
            </span>
            {member.user !== me && (
              <button
                type="button"
                className="link small"
                aria-label={`Message ${member.user}`}
                onClick={() => {
                  onMessage(member.user);
                }}
              >
                Message
              </button>
            )}
            {manages && !fixed && member.user !== me && (
              <button
                type="button"
                className="link small"
                aria-label={`Remove ${member.user} from the room`}
                onClick={() => void act(() => api.removeMember(room, member.user))}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {manages && !fixed && (
        <form className="new-room" onSubmit={add}>
          <UserPicker
            label="Add someone"
            value={adding}
            onChange={setAdding}
            exclude={members.map((member) => member.user)}
          />
          <button type="submit" disabled={!adding.trim()}>
            Add
          </button>
        </form>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

import { useEffect, useId, useLayoutEffect, useRef, useState } from "react";

import { api, type RoomSummary } from "../api";
import { TabList, tabId } from "../app/TabList";
import { renderBody } from "../markdown";
import type { ChatMessage } from "../socket/protocol";
import { metaOf, type RoomMeta } from "./Directory";
import { fold } from "./sections";

type Tab = "public" | "archived";

const TABS: readonly Tab[] = ["public", "archived"];
const LABELS: Record<Tab, string> = { public: "Public rooms", archived: "Archived" };

const PREVIEW_MESSAGES = 20;

/** Every public room, with its topic and member count, to search, preview and join; and the
 * archived rooms, to read. */
export function BrowseRooms({
  open,
  directory,
  onOpen,
  onClose,
}: {
  open: boolean;
  directory: Record<string, RoomMeta>;
  onOpen: (room: string) => void;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const search = useRef<HTMLInputElement>(null);
  const [tab, setTab] = useState<Tab>("public");
  const [query, setQuery] = useState("");
  // Asked for each time it opens: member counts and topics as they are now, and the archive
  // (which the room list leaves out). Until it comes, the room list's rooms.
  const [fetched, setFetched] = useState<RoomMeta[] | null>(null);
  const [previewing, setPreviewing] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const ids = useId();
  const searchId = `${ids}-search`;

  useLayoutEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      search.current?.focus();
    }
    if (!open && element.open) element.close();
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const request = { cancelled: false };
    api
      .allRooms()
      .then((rooms: RoomSummary[]) => {
        if (request.cancelled) return;
        setFetched(rooms.map(metaOf));
        setProblem(null);
      })
      .catch(() => {
        if (!request.cancelled) setProblem("The list could not be loaded; try again.");
      });
    return () => {
      request.cancelled = true;
    };
  }, [open]);

  const wanted = fold(query.trim());
  const known = fetched ?? Object.values(directory);
  const archived = fetched === null ? null : fetched.filter((r) => r.archived);
  const rooms = (tab === "public" ? known.filter((r) => r.visibility === "public" && !r.archived) : (archived ?? []))
    .filter((r) => !wanted || fold(`${r.name} ${r.topic}`).includes(wanted))
    .sort((a, b) => Number(a.member) - Number(b.member) || a.name.localeCompare(b.name));

  function select(which: Tab) {
    setTab(which);
    setPreviewing(null);
  }

  return (
    <dialog ref={dialog} className="card dialog browse" aria-labelledby={`${ids}-title`} onClose={onClose}>
      <h2 id={`${ids}-title`}>Browse rooms</h2>
      <TabList ids={ids} label="Which rooms" tabs={TABS} labels={LABELS} selected={tab} onSelect={select} />
      <label htmlFor={searchId} className="visually-hidden">
        Search rooms
      </label>
      <input
        id={searchId}
        ref={search}
        type="search"
        placeholder="Search rooms and topics"
        autoComplete="off"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
        }}
      />
      <div role="tabpanel" id={`${ids}-panel`} aria-labelledby={tabId(ids, tab)} className="browse-panel">
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
        {rooms.length === 0 ? (
          <p className="muted">
            {tab === "archived" && archived === null ? "Loading…" : wanted ? "No room matches." : "No rooms here yet."}
          </p>
        ) : (
          <ul className="browse-list">
            {rooms.map((room) => (
              <li key={room.name}>
                <div className="browse-room">
                  <strong dir="auto">
                    # {room.name}
                    {room.member && tab === "public" && <span className="badge"> joined</span>}
                  </strong>
                  <span className="muted small">
                    {room.memberCount} {room.memberCount === 1 ? "member" : "members"}
                  </span>
                  {room.topic && (
                    <span className="topic" dir="auto">
                      {room.topic}
                    </span>
                  )}
                </div>
                <div className="browse-actions">
                  {!room.member && tab === "public" && (
                    <button
                      type="button"
                      className="link small"
                      aria-expanded={previewing === room.name}
                      aria-controls={`${ids}-preview`}
                      onClick={() => {
                        setPreviewing(previewing === room.name ? null : room.name);
                      }}
                    >
                      Preview
                    </button>
                  )}
                  <button
                    type="button"
                    className="small"
                    aria-label={`${room.member || tab === "archived" ? "Open" : "Join"} # ${room.name}`}
                    onClick={() => {
                      onOpen(room.name);
                    }}
                  >
                    {room.member || tab === "archived" ? "Open" : "Join"}
                  </button>
                </div>
                {previewing === room.name && <Preview id={`${ids}-preview`} room={room.name} />}
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="row end">
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}

/** A room's latest messages, read before joining (public rooms are readable by anyone). */
function Preview({ id, room }: { id: string; room: string }) {
  const [messages, setMessages] = useState<ChatMessage[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const request = { cancelled: false };
    api
      .latest(room, PREVIEW_MESSAGES)
      .then((page) => {
        if (!request.cancelled) setMessages(page.messages);
      })
      .catch(() => {
        if (!request.cancelled) setFailed(true);
      });
    return () => {
      request.cancelled = true;
    };
  }, [room]);
  return (
    // Focusable: the preview scrolls, and a keyboard must be able to scroll it (WCAG 2.1.1).
    // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex
    <section id={id} className="room-preview" aria-label={`Preview of # ${room}`} tabIndex={0}>
      {failed ? (
        <p className="error">The preview could not be loaded.</p>
      ) : messages === null ? (
        <p className="muted">Loading…</p>
      ) : messages.length === 0 ? (
        <p className="muted">No messages yet.</p>
      ) : (
        <ol className="preview-messages">
          {messages.map((message) => (
            <li key={message.seq}>
              <span className="author" dir="auto">
                {message.author}
              </span>{" "}
              {message.deleted ? (
                <span className="muted">message deleted</span>
              ) : (
                // Safe: renderBody escapes everything it does not itself make (markdown.ts).
                <div className="body" dir="auto" dangerouslySetInnerHTML={{ __html: renderBody(message.body, message.mentions) }} />
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

import { useCallback, useEffect, useState, useSyncExternalStore } from "react";

import { api, type RoomSummary, type ServerConfig } from "../api";
import { attentionCount, metaOf } from "../socket/ChatClient";
import { useChatClient } from "../useChatClient";
import { Composer } from "./Composer";
import { ConnectionStatus } from "./ConnectionStatus";
import { MemberPanel } from "./MemberPanel";
import { MessageList, type ScrollPlace } from "./MessageList";
import { NewMessageDialog } from "./NewMessageDialog";
import { NotificationSettings } from "./NotificationSettings";
import { OpenModeNotice } from "./OpenModeNotice";
import { RoomHeader } from "./RoomHeader";
import { RoomList } from "./RoomList";
import { roomLabel } from "./roomLabel";
import type { ChatMessage } from "../socket/protocol";

/** A reply's start: the message quoted, its author mentioned. */
function quoteOf(message: ChatMessage): string {
  const lines = message.body.split("\n").slice(0, 6);
  return `${lines.map((line) => `> ${line}`).join("\n")}\n\n@${message.author} `;
}

export function Chat({
  config,
  user,
  admin,
  onSignedOut,
}: {
  config: ServerConfig;
  user: string;
  admin: boolean;
  onSignedOut: (reason: string | null) => void;
}) {
  const [client, snapshot, notifier] = useChatClient(user);
  const notifications = useSyncExternalStore(notifier.subscribe, notifier.getSnapshot);
  const [chosen, setActive] = useState(() => {
    const fromUrl = new URLSearchParams(window.location.search).get("room");
    return fromUrl && new RegExp(config.room_name_pattern).test(fromUrl) ? fromUrl : config.default_room;
  });
  const [membersOpen, setMembersOpen] = useState(false);
  const [drawerOpen, setDrawerOpen] = useState(false);
  // Where the reader was in each room: kept for this tab, across reloads.
  const [places] = useState(() => loadPlaces());
  const [composing, setComposing] = useState(false);
  const [editing, setEditing] = useState<number | null>(null);
  const [quote, setQuote] = useState({ text: "", n: 0 });
  const [members, setMembers] = useState<{ room: string; names: string[] }>({ room: "", names: [] });
  // The room on screen went away (removed, or a link to no such room): the default room.
  const lostRooms = snapshot.lostRooms;
  const active = lostRooms.some((lost) => lost.room === chosen) ? config.default_room : chosen;
  const me = snapshot.user ?? user;
  const directory = snapshot.directory;

  useEffect(() => {
    client.join(active);
    const url = new URL(window.location.href);
    if (active === config.default_room) url.searchParams.delete("room");
    else url.searchParams.set("room", active);
    window.history.replaceState(null, "", url);
  }, [client, active, config.default_room]);

  // Credentials refused or the session ended: back to the sign-in screen, saying why.
  const fatal = snapshot.fatal;
  useEffect(() => {
    if (fatal?.code === 4401) onSignedOut(fatal.text);
  }, [fatal, onSignedOut]);

  // The tab's title counts mentions and direct messages: "(3) Hubbub".
  const waiting = attentionCount(directory);
  useEffect(() => {
    document.title = waiting > 0 ? `(${waiting}) Hubbub` : "Hubbub";
  }, [waiting]);

  // A notification names the room as the sidebar does, and a click on it opens the room.
  useEffect(() => {
    notifier.connect(
      (room) => roomLabel(client.getSnapshot().directory[room], room, me),
      (room) => {
        setActive(room);
        setDrawerOpen(false);
      },
    );
  }, [notifier, client, me]);

  // Who can be mentioned in the room on screen.
  const membersVersion = snapshot.rooms[active]?.membersVersion ?? 0;
  useEffect(() => {
    const request = { cancelled: false };
    void api
      .members(active)
      .then((found) => {
        if (!request.cancelled) setMembers({ room: active, names: found.map((m) => m.user) });
      })
      .catch(() => undefined);
    return () => {
      request.cancelled = true;
    };
  }, [active, membersVersion]);

  const open = useCallback((room: string) => {
    setActive(room);
    setDrawerOpen(false);
  }, []);

  const openRoom = useCallback(
    (room: RoomSummary) => {
      client.addRoom(metaOf(room));
      open(room.name);
      setComposing(false);
    },
    [client, open],
  );

  const messageUser = useCallback(
    (other: string) => {
      void api.directMessage([other]).then(openRoom);
    },
    [openRoom],
  );

  const savePlace = useCallback(
    (place: ScrollPlace) => {
      places.set(active, place);
      savePlaces(places);
    },
    [places, active],
  );

  const markSeen = useCallback(
    (seq: number) => {
      client.markRead(active, seq);
    },
    [client, active],
  );

  const room = snapshot.rooms[active];
  const roomMeta = directory[active];
  const typing = Object.keys(room?.typing ?? {});
  const outbox = snapshot.outbox.filter((p) => p.room === active);
  // Messages written in a room that went away: offered for the room on screen, or discarded.
  const listed = Object.keys(directory).length > 0;
  const stranded = snapshot.outbox.filter((p) => p.failed && p.room !== active && listed && !directory[p.room]);
  const mentionable = members.room === active ? [...members.names.filter((n) => n !== me), "room"] : [];

  async function signOut() {
    try {
      await api.logout();
    } finally {
      onSignedOut(null);
    }
  }

  return (
    <div className={["chat", membersOpen ? "with-members" : "", drawerOpen ? "drawer-open" : ""].join(" ").trim()}>
      <header className="topbar">
        <button
          type="button"
          className="menu"
          aria-expanded={drawerOpen}
          aria-controls="room-drawer"
          onClick={() => {
            setDrawerOpen(!drawerOpen);
          }}
        >
          Rooms{waiting > 0 ? ` (${waiting})` : ""}
        </button>
        <h1 className="brand">Hubbub</h1>
        {config.auth_mode === "none" && <OpenModeNotice />}
        <ConnectionStatus
          snapshot={snapshot}
          onReconnect={() => {
            client.reconnectNow();
          }}
        />
        <NotificationSettings notifier={notifier} />
        <span className="me">
          Signed in as <strong>{me}</strong>
        </span>
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <RoomList
        directory={directory}
        active={active}
        pattern={config.room_name_pattern}
        users={room?.users ?? []}
        live={snapshot.status === "connected"}
        me={me}
        muted={notifications.muted}
        onSelect={open}
        onCreate={async (name, priv) => {
          openRoom(await api.createRoom(name, priv ? "private" : "public"));
        }}
        onNewMessage={() => {
          setComposing(true);
        }}
        onMessage={messageUser}
      />
      {drawerOpen && (
        <button
          type="button"
          className="backdrop"
          aria-label="Close the room list"
          onClick={() => {
            setDrawerOpen(false);
          }}
        />
      )}
      <main className="conversation" aria-labelledby="room-title">
        <RoomHeader
          room={active}
          meta={roomMeta}
          me={me}
          admin={admin}
          defaultRoom={config.default_room}
          membersOpen={membersOpen}
          muted={notifications.muted.includes(active)}
          onToggleMute={() => {
            notifier.toggleMute(active);
          }}
          onToggleMembers={() => {
            setMembersOpen(!membersOpen);
          }}
          onLeft={() => {
            client.forget(active);
            setActive(config.default_room);
          }}
        />
        {fatal && fatal.code !== 4401 && (
          <p className="error banner" role="alert">
            {fatal.text}{" "}
            {fatal.code === 4429 && (
              <button
                type="button"
                className="link"
                onClick={() => {
                  client.reconnectNow();
                }}
              >
                Use here
              </button>
            )}
          </p>
        )}
        {snapshot.status === "connected" && snapshot.notice && (
          <div className="notice banner" role="alert" data-testid="chat-notice">
            <p>
              {snapshot.notice}{" "}
              <button
                type="button"
                className="link"
                onClick={() => {
                  client.clearNotice();
                }}
              >
                OK
              </button>
            </p>
          </div>
        )}
        {(lostRooms.length > 0 || stranded.length > 0) && (
          <div className="notice banner" role="alert">
            {lostRooms.map((lost) => (
              <p key={lost.room}>
                {lost.why === "removed"
                  ? `You were removed from #${lost.room}.`
                  : `There is no room #${lost.room}, or you are not in it.`}
              </p>
            ))}
            {stranded.map((p) => (
              <p key={p.clientMsgId} data-testid="stranded-message">
                Not sent: “{p.body.length > 80 ? `${p.body.slice(0, 80)}…` : p.body}”{" "}
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    client.retry(p.clientMsgId, active);
                  }}
                >
                  Send in {roomLabel(roomMeta, active, me)}
                </button>
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    client.dismiss(p.clientMsgId);
                  }}
                >
                  Discard
                </button>
              </p>
            ))}
            <button
              type="button"
              className="link"
              onClick={() => {
                if (lostRooms.some((lost) => lost.room === chosen)) setActive(config.default_room);
                client.acknowledgeLostRooms();
              }}
            >
              OK
            </button>
          </div>
        )}
        <MessageList
          key={`messages-${active}`}
          room={room}
          outbox={outbox}
          me={me}
          readAtOpen={room?.readMark ?? 0}
          place={places.get(active) ?? null}
          onPlace={savePlace}
          onLoadOlder={() => void client.loadOlder(active, config.history_page_size)}
          onDismiss={(id) => {
            client.dismiss(id);
          }}
          onRetry={(id) => {
            client.retry(id);
          }}
          onSeen={markSeen}
          actions={{
            me,
            moderator: admin || roomMeta?.owner === me,
            onEdit: (message, body) => {
              client.edit(active, message.id, body);
            },
            onDelete: (message) => {
              client.remove(active, message.id);
            },
            onReact: (message, emoji, on) => {
              client.react(active, message.id, emoji, on);
            },
            onQuote: (message) => {
              setQuote((q) => ({ text: quoteOf(message), n: q.n + 1 }));
            },
            editing,
            setEditing: (seq) => {
              setEditing(seq);
              if (seq === null) document.querySelector<HTMLTextAreaElement>(".composer textarea")?.focus();
            },
          }}
        />
        <p className="typing" aria-live="polite">
          {typing.length === 1 && `${typing[0] ?? ""} is typing…`}
          {typing.length > 1 && `${typing.join(", ")} are typing…`}
        </p>
        {fatal ? null : roomMeta?.archived ? (
          <p className="notice banner archived-note">This room is archived: you can read it, not write in it.</p>
        ) : (
          <Composer
            key={`composer-${active}`}
            room={roomLabel(roomMeta, active, me)}
            maxBytes={config.max_message_bytes}
            members={mentionable}
            onSend={(body) => {
              client.send(active, body);
            }}
            onTyping={() => {
              client.typing(active);
            }}
            insert={quote}
            onEditLast={() => {
              const last = room?.messages.findLast((m) => m.author === me && !m.bot && !m.deleted);
              if (last) setEditing(last.seq);
            }}
          />
        )}
      </main>
      {membersOpen && (
        <MemberPanel
          room={active}
          meta={roomMeta}
          me={me}
          admin={admin}
          version={membersVersion}
          onMessage={messageUser}
        />
      )}
      <NewMessageDialog
        me={me}
        open={composing}
        onClose={() => {
          setComposing(false);
        }}
        onOpened={openRoom}
      />
    </div>
  );
}

const PLACES_KEY = "hubbub.places";

function loadPlaces(): Map<string, ScrollPlace> {
  try {
    const saved = JSON.parse(window.sessionStorage.getItem(PLACES_KEY) ?? "{}") as Record<string, ScrollPlace>;
    return new Map(Object.entries(saved));
  } catch {
    return new Map();
  }
}

function savePlaces(places: Map<string, ScrollPlace>): void {
  try {
    window.sessionStorage.setItem(PLACES_KEY, JSON.stringify(Object.fromEntries(places)));
  } catch {
    // storage off: places live as long as the page
  }
}

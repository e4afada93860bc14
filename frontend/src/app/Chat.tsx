import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type MouseEvent } from "react";

import { AdminPage } from "../admin/AdminPage";
import { api, type RoomSummary, type ServerConfig } from "../api";
import { Composer } from "../composer/Composer";
import { MessageList, type Focus, type ScrollPlace } from "../messages/MessageList";
import { SearchDialog } from "../search/SearchDialog";
import { MemberPanel } from "../people/MemberPanel";
import { NewMessageDialog } from "../people/NewMessageDialog";
import { shownName } from "../people/People";
import { PersonName } from "../people/PersonName";
import { ProfileDialog } from "../people/ProfileDialog";
import { PeopleContext } from "../people/usePeople";
import { BrowseRooms } from "../rooms/BrowseRooms";
import { attentionCount, metaOf, newMeta } from "../rooms/Directory";
import { RoomHeader } from "../rooms/RoomHeader";
import { RoomList } from "../rooms/RoomList";
import { roomLabel } from "../rooms/roomLabel";
import { neighbour, sections } from "../rooms/sections";
import { CloseCode, type ChatMessage } from "../socket/protocol";
import { useChatClient } from "../useChatClient";
import { ConnectionStatus } from "./ConnectionStatus";
import { useShortcuts, type ShortcutActions } from "./keyboard";
import { NotificationSettings } from "./NotificationSettings";
import { OpenModeNotice } from "./OpenModeNotice";
import { QuickSwitcher } from "./QuickSwitcher";
import { ShortcutList } from "./ShortcutList";
import { signOut } from "./signIn";

/** Where the user continues typing, when what they were doing is done. */
function focusComposer(): void {
  document.querySelector<HTMLTextAreaElement>("#composer-box")?.focus();
}

/** A reply's start: the message quoted, its author mentioned. */
function quoteOf(message: ChatMessage): string {
  const lines = message.body.split("\n").slice(0, 6);
  return `${lines.map((line) => `> ${line}`).join("\n")}\n\n@${message.author} `;
}

/** A same-page link that moves focus, not just the view (skip links). */
function skipTo(id: string) {
  return (event: MouseEvent<HTMLAnchorElement>) => {
    event.preventDefault();
    document.getElementById(id)?.focus();
  };
}

type Dialog = "new-message" | "browse" | "switcher" | "shortcuts" | "search" | "profile" | "admin" | null;

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
  const [client, snapshot, notifier, people] = useChatClient(user);
  // Anyone's profile changed: names on screen follow.
  useSyncExternalStore(people.subscribe, people.getVersion);
  const notifications = useSyncExternalStore(notifier.subscribe, notifier.getSnapshot);
  const [chosen, setActive] = useState(() => {
    const fromUrl = new URLSearchParams(window.location.search).get("room");
    return fromUrl && new RegExp(config.room_name_pattern).test(fromUrl) ? fromUrl : config.default_room;
  });
  const [membersOpen, setMembersOpen] = useState(false);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [accountOpen, setAccountOpen] = useState(false);
  const [dialog, setDialog] = useState<Dialog>(null);
  // Where the reader was in each room: kept for this tab, across reloads.
  const [places] = useState(() => loadPlaces());
  const [editing, setEditing] = useState<number | null>(null);
  // The message a search hit opened its room at (highlighted until another room is opened).
  const [searchSeed, setSearchSeed] = useState<{ text: string; n: number } | null>(null); // the switcher's words
  const [focus, setFocus] = useState<(Focus & { room: string }) | null>(null);
  const [quote, setQuote] = useState({ text: "", n: 0 });
  const [dropped, setDropped] = useState<{ files: File[]; n: number }>({ files: [], n: 0 });
  const [dragging, setDragging] = useState(false);
  const [members, setMembers] = useState<{ room: string; names: string[] }>({ room: "", names: [] });
  // An unread room opened just now keeps its place in the list while it is on screen.
  const [kept, setKept] = useState<string | null>(null);
  // A dialog that opened a conversation hands the keyboard to its message box when it closes.
  const focusAfterDialog = useRef(false);
  const membersButton = useRef<HTMLButtonElement>(null);
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
    if (fatal?.code === CloseCode.UNAUTHORIZED) onSignedOut(fatal.text);
  }, [fatal, onSignedOut]);

  // The tab's title counts mentions and direct messages: "(3) Hubbub".
  const waiting = attentionCount(directory);
  useEffect(() => {
    document.title = waiting > 0 ? `(${waiting}) Hubbub` : "Hubbub";
  }, [waiting]);

  // Esc closes the account menu (before the window's Esc marks the room read).
  useEffect(() => {
    if (!accountOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      setAccountOpen(false);
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
    };
  }, [accountOpen]);

  const open = useCallback(
    (room: string) => {
      setKept((client.getSnapshot().directory[room]?.unread ?? 0) > 0 ? room : null);
      setActive(room);
      setFocus(null);
      setDrawerOpen(false);
    },
    [client],
  );

  // A notification names the room as the sidebar does, and a click on it opens the room.
  useEffect(() => {
    notifier.connect((room) => roomLabel(client.getSnapshot().directory[room], room, me), open);
  }, [notifier, client, me, open]);

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

  const openRoom = useCallback(
    (room: RoomSummary) => {
      client.addRoom(metaOf(room));
      open(room.name);
    },
    [client, open],
  );

  const messageUser = useCallback(
    (other: string) => {
      void api.directMessage([other]).then(openRoom);
    },
    [openRoom],
  );

  /** Open what a dialog picked, and close the dialog: the message box gets the keyboard. */
  const fromDialog = useCallback(
    (go: () => void) => {
      focusAfterDialog.current = true;
      go();
      setDialog(null);
    },
    [],
  );

  /** A dialog closed (Esc, its Close button, or after it opened something). Only that one is
   * forgotten: its close event may come after another dialog was asked for. */
  const dialogClosed = useCallback((which: Exclude<Dialog, null>) => {
    setDialog((current) => (current === which ? null : current));
    if (focusAfterDialog.current) {
      focusAfterDialog.current = false;
      focusComposer();
    }
  }, []);

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

  const saveDraft = useCallback(
    (text: string) => {
      client.setDraft(active, text);
    },
    [client, active],
  );

  /** A search hit: its room, at the message, which is highlighted. */
  const openAt = useCallback(
    (room: string, seq: number) => {
      open(room);
      setFocus((previous) => ({ room, seq, n: (previous?.n ?? 0) + 1 }));
      // Not there after all (deleted, or the room is gone): the room opens as it would anyway.
      client.jumpTo(room, seq, config.history_page_size).catch(() => {
        setFocus(null);
      });
    },
    [client, open, config.history_page_size],
  );

  const shortcuts = useMemo<ShortcutActions>(
    () => ({
      search: () => {
        setDialog("search");
      },
      switcher: () => {
        setDialog("switcher");
      },
      shortcuts: () => {
        setDialog("shortcuts");
      },
      step: (step, unread) => {
        const current = client.getSnapshot();
        const listed = sections(current.directory, active, me, newMeta(active, "public"), kept);
        const next = neighbour(listed, active, step, unread);
        if (next) open(next);
      },
      markRead: () => {
        client.markAllRead(active);
      },
    }),
    [client, active, me, kept, open],
  );
  useShortcuts(shortcuts);

  const room = snapshot.rooms[active];
  const roomMeta = directory[active];
  const typing = Object.keys(room?.typing ?? {});
  const outbox = snapshot.outbox.filter((p) => p.room === active);
  // Messages written in a room that went away: offered for the room on screen, or discarded.
  const listed = Object.keys(directory).length > 0;
  const stranded = snapshot.outbox.filter((p) => p.failed && p.room !== active && listed && !directory[p.room]);
  // Deactivated people are not offered (their old messages still show them).
  const mentionable =
    members.room === active ? [...members.names.filter((n) => n !== me && !people.get(n)?.deactivated), "room"] : [];
  const drafts = useMemo(
    () => new Set(Object.values(snapshot.rooms).filter((r) => r.hasDraft).map((r) => r.name)),
    [snapshot.rooms],
  );
  const label = roomLabel(roomMeta, active, me);

  async function signOutHere() {
    try {
      await signOut(config.auth_mode); // in auth mode oidc, on to the provider's sign-out
    } finally {
      // Where the server says signing out ends (an authenticating proxy's sign-out), else the
      // sign-in form.
      if (config.logout_url) window.location.assign(config.logout_url);
      else onSignedOut(null);
    }
  }

  return (
    <PeopleContext.Provider value={people}>
    <div
      className={["chat", membersOpen ? "with-members" : "", drawerOpen ? "drawer-open" : ""].join(" ").trim()}
    >
      <nav className="skip-links" aria-label="Skip links">
        <a href="#composer-box" onClick={skipTo("composer-box")}>
          Skip to the message box
        </a>
        <a href="#room-filter" onClick={skipTo("room-filter")}>
          Skip to the room list
        </a>
      </nav>
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
        {/* On phones the room's name is up here; its heading below is for screen readers. */}
        <span className="topbar-room" aria-hidden="true" dir="auto">
          {label}
        </span>
        <ConnectionStatus
          snapshot={snapshot}
          onReconnect={() => {
            client.reconnectNow();
          }}
        />
        <button
          type="button"
          className="search-toggle"
          aria-keyshortcuts="/"
          title="Search messages (/)"
          onClick={() => {
            setDialog("search");
          }}
        >
          <svg className="search-icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
            <circle cx="6.5" cy="6.5" r="4.75" fill="none" stroke="currentColor" strokeWidth="1.8" />
            <line x1="10" y1="10" x2="14.5" y2="14.5" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
          </svg>
          <span className="search-label">Search</span>
        </button>
        <button
          type="button"
          className="account-toggle"
          aria-expanded={accountOpen}
          aria-controls="account"
          onClick={() => {
            setAccountOpen(!accountOpen);
          }}
        >
          Menu
        </button>
        <div id="account" className={accountOpen ? "account open" : "account"}>
          <NotificationSettings notifier={notifier} />
          <span className="me">
            Signed in as{" "}
            <strong>
              <PersonName name={me} />
            </strong>
          </span>
          <button
            type="button"
            className="link"
            onClick={() => {
              setAccountOpen(false);
              setDialog("profile");
            }}
          >
            Profile
          </button>
          {admin && (
            <button
              type="button"
              className="link"
              onClick={() => {
                setAccountOpen(false);
                setDialog("admin");
              }}
            >
              Admin
            </button>
          )}
          <button type="button" className="link" onClick={() => void signOutHere()}>
            Sign out
          </button>
        </div>
      </header>
      <RoomList
        directory={directory}
        active={active}
        kept={kept}
        drafts={drafts}
        pattern={config.room_name_pattern}
        users={room?.users ?? []}
        online={room?.online ?? 0}
        live={snapshot.status === "connected"}
        me={me}
        muted={notifications.muted}
        onSelect={open}
        onCreate={async (name, priv) => {
          openRoom(await api.createRoom(name, priv ? "private" : "public"));
        }}
        onNewMessage={() => {
          setDialog("new-message");
        }}
        onMessage={messageUser}
        onBrowse={() => {
          setDialog("browse");
        }}
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
      {/* Dropping files is the mouse's way; the keyboard's is the message box's Attach button. */}
      {/* eslint-disable-next-line jsx-a11y/no-noninteractive-element-interactions */}
      <main
        className={dragging ? "conversation dropping" : "conversation"}
        aria-labelledby="room-title"
        onDragOver={(event) => {
          // Files dragged over the conversation go with the next message when dropped.
          if (!event.dataTransfer.types.includes("Files") || roomMeta?.archived) return;
          event.preventDefault();
          event.dataTransfer.dropEffect = "copy";
          setDragging(true);
        }}
        onDragLeave={(event) => {
          if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={(event) => {
          setDragging(false);
          if (event.dataTransfer.files.length === 0 || roomMeta?.archived) return;
          event.preventDefault();
          const files = [...event.dataTransfer.files];
          setDropped((current) => ({ files, n: current.n + 1 }));
        }}
      >
        <RoomHeader
          room={active}
          meta={roomMeta}
          me={me}
          admin={admin}
          defaultRoom={config.default_room}
          membersOpen={membersOpen}
          membersButton={membersButton}
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
        {fatal && fatal.code !== CloseCode.UNAUTHORIZED && (
          <p className="error banner" role="alert">
            {fatal.text}{" "}
            {fatal.code === CloseCode.TOO_MANY_CONNECTIONS && (
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
                {lost.why === "missing"
                  ? `There is no room #${lost.room}, or you are not in it.`
                  : lost.rejoinable
                    ? `You were removed from #${lost.room}. It is public: you can join it again from Browse rooms.`
                    : `You were removed from #${lost.room}.`}
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
                  Send in {label}
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
          place={places.get(active) ?? null}
          focus={focus?.room === active ? focus : null}
          onPlace={savePlace}
          onLoadOlder={() => void client.loadOlder(active, config.history_page_size)}
          onLoadNewer={() => void client.loadNewer(active, config.history_page_size)}
          onLatest={() => {
            client.backToLatest(active);
          }}
          onDismiss={(id) => {
            client.dismiss(id);
          }}
          onRetry={(id) => {
            client.retry(id);
          }}
          uploads={snapshot.uploads}
          onCancelFile={(id, key) => {
            client.cancelAttachment(id, key);
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
              if (seq === null) focusComposer();
            },
            focusComposer,
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
            room={label}
            maxBytes={config.max_message_bytes}
            maxUploadBytes={config.max_upload_bytes}
            dropped={dropped}
            members={mentionable}
            describe={(name) => shownName(name, people.get(name))}
            draft={client.draftOf(active)}
            onDraft={saveDraft}
            onSend={(body, files) => {
              client.send(active, body, files);
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
          onClose={() => {
            setMembersOpen(false);
            membersButton.current?.focus();
          }}
        />
      )}
      <NewMessageDialog
        me={me}
        open={dialog === "new-message"}
        onClose={() => {
          dialogClosed("new-message");
        }}
        onOpened={(summary) => {
          fromDialog(() => {
            openRoom(summary);
          });
        }}
      />
      <BrowseRooms
        open={dialog === "browse"}
        directory={directory}
        onClose={() => {
          dialogClosed("browse");
        }}
        onOpen={(name) => {
          fromDialog(() => {
            open(name);
          });
        }}
      />
      <QuickSwitcher
        open={dialog === "switcher"}
        directory={directory}
        online={room?.users ?? []}
        me={me}
        onClose={() => {
          dialogClosed("switcher");
        }}
        onRoom={(name) => {
          fromDialog(() => {
            open(name);
          });
        }}
        onPerson={(other) => {
          fromDialog(() => {
            messageUser(other);
          });
        }}
        onSearch={(words) => {
          setSearchSeed((previous) => ({ text: words, n: (previous?.n ?? 0) + 1 }));
          setDialog("search");
        }}
      />
      <SearchDialog
        open={dialog === "search"}
        seed={searchSeed}
        directory={directory}
        people={room?.users ?? []}
        me={me}
        onClose={() => {
          dialogClosed("search");
        }}
        onOpen={(name, seq) => {
          setDialog(null);
          openAt(name, seq);
        }}
      />
      <ShortcutList
        open={dialog === "shortcuts"}
        onClose={() => {
          dialogClosed("shortcuts");
        }}
      />
      <ProfileDialog
        open={dialog === "profile"}
        me={me}
        people={people}
        onClose={() => {
          dialogClosed("profile");
        }}
      />
      {admin && (
        <AdminPage
          open={dialog === "admin"}
          me={me}
          config={config}
          onClose={() => {
            dialogClosed("admin");
          }}
        />
      )}
    </div>
    </PeopleContext.Provider>
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

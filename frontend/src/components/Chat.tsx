import { useCallback, useEffect, useState } from "react";

import { api, type RoomSummary, type ServerConfig } from "../api";
import type { RoomMeta } from "../socket/ChatClient";
import { useChatClient } from "../useChatClient";
import { Composer } from "./Composer";
import { ConnectionStatus } from "./ConnectionStatus";
import { MemberPanel } from "./MemberPanel";
import { MessageList } from "./MessageList";
import { NewMessageDialog } from "./NewMessageDialog";
import { RoomHeader } from "./RoomHeader";
import { RoomList } from "./RoomList";
import { roomLabel } from "./roomLabel";

function meta(room: RoomSummary): RoomMeta {
  return {
    name: room.name,
    visibility: room.visibility,
    topic: room.topic,
    owner: room.owner,
    archived: room.archived,
    members: room.members,
  };
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
  const [client, snapshot] = useChatClient();
  const [chosen, setActive] = useState(() => {
    const fromUrl = new URLSearchParams(window.location.search).get("room");
    return fromUrl && new RegExp(config.room_name_pattern).test(fromUrl) ? fromUrl : config.default_room;
  });
  const [membersOpen, setMembersOpen] = useState(false);
  // Taken out of the room on screen: back to the default room.
  const removedFrom = snapshot.removedFrom;
  const active = removedFrom.includes(chosen) ? config.default_room : chosen;
  const [composing, setComposing] = useState(false);
  const me = snapshot.user ?? user;

  useEffect(() => {
    void api.rooms().then((rooms) => {
      client.setDirectory(rooms.map(meta));
    });
  }, [client]);

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

  const openRoom = useCallback(
    (room: RoomSummary) => {
      client.addRoom(meta(room));
      setActive(room.name);
      setComposing(false);
    },
    [client],
  );

  const messageUser = useCallback(
    (other: string) => {
      void api.directMessage([other]).then(openRoom);
    },
    [openRoom],
  );

  const room = snapshot.rooms[active];
  const roomMeta = snapshot.directory[active];
  const typing = Object.keys(room?.typing ?? {});
  const outbox = snapshot.outbox.filter((p) => p.room === active);

  async function signOut() {
    try {
      await api.logout();
    } finally {
      onSignedOut(null);
    }
  }

  return (
    <div className={membersOpen ? "chat with-members" : "chat"}>
      <header className="topbar">
        <h1 className="brand">Hubbub</h1>
        <ConnectionStatus snapshot={snapshot} />
        <span className="me">
          Signed in as <strong>{me}</strong>
        </span>
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <RoomList
        directory={snapshot.directory}
        active={active}
        pattern={config.room_name_pattern}
        users={room?.users ?? []}
        me={me}
        onSelect={setActive}
        onCreate={async (name, priv) => {
          const created = await api.createRoom(name, priv ? "private" : "public");
          openRoom(created);
        }}
        onNewMessage={() => {
          setComposing(true);
        }}
        onMessage={messageUser}
      />
      <main className="conversation" aria-labelledby="room-title">
        <RoomHeader
          room={active}
          meta={roomMeta}
          me={me}
          admin={admin}
          defaultRoom={config.default_room}
          membersOpen={membersOpen}
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
            {fatal.text}
          </p>
        )}
        {removedFrom.length > 0 && (
          <p className="notice banner" role="status">
            You were removed from {removedFrom.map((r) => `#${r}`).join(", ")}.{" "}
            <button
              type="button"
              className="link"
              onClick={() => {
                if (removedFrom.includes(chosen)) setActive(config.default_room);
                client.acknowledgeRemovals();
              }}
            >
              OK
            </button>
          </p>
        )}
        <MessageList
          room={room}
          outbox={outbox}
          me={me}
          onLoadOlder={() => void client.loadOlder(active, config.history_page_size)}
          onDismiss={(id) => {
            client.dismiss(id);
          }}
        />
        <p className="typing" aria-live="polite">
          {typing.length === 1 && `${typing[0] ?? ""} is typing…`}
          {typing.length > 1 && `${typing.join(", ")} are typing…`}
        </p>
        {roomMeta?.archived ? (
          <p className="notice banner archived-note">This room is archived: you can read it, not write in it.</p>
        ) : (
          <Composer
            room={roomLabel(roomMeta, active, me)}
            maxBytes={config.max_message_bytes}
            onSend={(body) => {
              client.send(active, body);
            }}
            onTyping={() => {
              client.typing(active);
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
          version={room?.membersVersion ?? 0}
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

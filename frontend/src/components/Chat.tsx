import { useEffect, useState } from "react";

import { api, type ServerConfig } from "../api";
import { useChatClient } from "../useChatClient";
import { Composer } from "./Composer";
import { ConnectionStatus } from "./ConnectionStatus";
import { MessageList } from "./MessageList";
import { RoomList } from "./RoomList";

export function Chat({
  config,
  user,
  onSignedOut,
}: {
  config: ServerConfig;
  user: string;
  onSignedOut: (reason: string | null) => void;
}) {
  const [client, snapshot] = useChatClient();
  const [active, setActive] = useState(() => {
    const fromUrl = new URLSearchParams(window.location.search).get("room");
    return fromUrl && new RegExp(config.room_name_pattern).test(fromUrl) ? fromUrl : config.default_room;
  });

  useEffect(() => {
    void api.rooms().then((rooms) => {
      client.setRoomNames(rooms.map((r) => r.name));
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

  const room = snapshot.rooms[active];
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
    <div className="chat">
      <header className="topbar">
        <h1 className="brand">Hubbub</h1>
        <ConnectionStatus snapshot={snapshot} />
        <span className="me">
          Signed in as <strong>{snapshot.user ?? user}</strong>
        </span>
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <RoomList
        rooms={snapshot.roomNames}
        active={active}
        pattern={config.room_name_pattern}
        users={room?.users ?? []}
        me={snapshot.user ?? user}
        onSelect={setActive}
        onCreate={async (name) => {
          await api.createRoom(name);
          client.setRoomNames([...snapshot.roomNames, name]);
          setActive(name);
        }}
      />
      <main className="conversation" aria-labelledby="room-title">
        <h2 id="room-title" className="room-title">
          # {active}
        </h2>
        {fatal && fatal.code !== 4401 && (
          <p className="error banner" role="alert">
            {fatal.text}
          </p>
        )}
        <MessageList
          room={room}
          outbox={outbox}
          me={snapshot.user ?? user}
          onLoadOlder={() => void client.loadOlder(active, config.history_page_size)}
          onDismiss={(id) => {
            client.dismiss(id);
          }}
        />
        <p className="typing" aria-live="polite">
          {typing.length === 1 && `${typing[0] ?? ""} is typing…`}
          {typing.length > 1 && `${typing.join(", ")} are typing…`}
        </p>
        <Composer
          room={active}
          maxBytes={config.max_message_bytes}
          onSend={(body) => {
            client.send(active, body);
          }}
          onTyping={() => {
            client.typing(active);
          }}
        />
      </main>
    </div>
  );
}

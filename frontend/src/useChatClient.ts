import { useEffect, useState, useSyncExternalStore } from "react";

import { api, socketUrl } from "./api";
import { browserNotifierEnvironment, Notifier } from "./notifications";
import { ChatClient, type Alert, type ChatSnapshot } from "./socket/ChatClient";

function browserEnvironment(notifier: Notifier) {
  return {
    createSocket: (url: string) => new WebSocket(url),
    setTimeout: (callback: () => void, ms: number) => window.setTimeout(callback, ms),
    clearTimeout: (handle: unknown) => {
      window.clearTimeout(handle as number);
    },
    now: () => Date.now(),
    random: () => Math.random(),
    newId: () => crypto.randomUUID(),
    fetchHistory: api.history,
    fetchRooms: api.rooms,
    notify: (alert: Alert) => {
      notifier.notify(alert);
    },
  };
}

/** One ChatClient (and its notifier) for the lifetime of the chat screen, wired to the
 * browser's online state. */
export function useChatClient(user: string): [ChatClient, ChatSnapshot, Notifier] {
  const [notifier] = useState(() => new Notifier(browserNotifierEnvironment(), `hubbub.notifications.${user}`));
  const [client] = useState(() => new ChatClient(socketUrl(), browserEnvironment(notifier)));
  const snapshot = useSyncExternalStore(client.subscribe, client.getSnapshot);

  useEffect(() => {
    client.start();
    const online = () => {
      client.setOnline(true);
    };
    const offline = () => {
      client.setOnline(false);
    };
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
      client.stop();
    };
  }, [client]);

  return [client, snapshot, notifier];
}

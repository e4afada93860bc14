import { useEffect, useState, useSyncExternalStore } from "react";

import { api, socketUrl } from "./api";
import { browserNotifierEnvironment, Notifier } from "./notifications";
import { ChatClient, type Alert, type ChatSnapshot } from "./socket/ChatClient";

function browserEnvironment(notifier: Notifier, outboxKey: string) {
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
    loadOutbox: () => window.localStorage.getItem(outboxKey),
    saveOutbox: (value: string) => {
      try {
        window.localStorage.setItem(outboxKey, value);
      } catch {
        // storage full or disabled: the outbox still lives as long as the page
      }
    },
  };
}

/** One ChatClient (and its notifier) for the lifetime of the chat screen, wired to the
 * browser's online state. */
export function useChatClient(user: string): [ChatClient, ChatSnapshot, Notifier] {
  const [notifier] = useState(() => new Notifier(browserNotifierEnvironment(), `hubbub.notifications.${user}`));
  // Unsent messages are kept per server and per user: the next sign-in sends them.
  const outboxKey = `hubbub.outbox.${window.location.host}.${user}`;
  const [client] = useState(() => new ChatClient(socketUrl(), browserEnvironment(notifier, outboxKey)));
  const snapshot = useSyncExternalStore(client.subscribe, client.getSnapshot);

  useEffect(() => {
    client.start();
    const online = () => {
      client.setOnline(true);
    };
    const offline = () => {
      client.setOnline(false);
    };
    // Back to the tab: if the connection is down, try at once rather than wait out the backoff.
    const back = () => {
      if (document.visibilityState === "visible") client.reconnectNow();
    };
    // Leaving with messages that were never sent: the browser asks the user first.
    const leaving = (event: BeforeUnloadEvent) => {
      if (client.getSnapshot().outbox.some((p) => !p.failed)) event.preventDefault();
    };
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    window.addEventListener("focus", back);
    document.addEventListener("visibilitychange", back);
    window.addEventListener("beforeunload", leaving);
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
      window.removeEventListener("focus", back);
      document.removeEventListener("visibilitychange", back);
      window.removeEventListener("beforeunload", leaving);
      client.stop();
    };
  }, [client]);

  return [client, snapshot, notifier];
}

import { useEffect, useState, useSyncExternalStore } from "react";

import { api, socketUrl } from "./api";
import { browserUploads } from "./files/browserUploads";
import { browserNotifierEnvironment, Notifier } from "./notifications";
import { PeopleDirectory } from "./people/People";
import type { Alert } from "./rooms/Directory";
import { ChatClient, type ChatEnvironment, type ChatSnapshot } from "./socket/ChatClient";

/** A room's newest message, for a notification's preview. */
async function newestMessage(room: string): Promise<{ author: string; body: string } | null> {
  const page = await api.latest(room, 1);
  const message = page.messages[page.messages.length - 1];
  return message && !message.deleted ? { author: message.author, body: message.body } : null;
}

/** A value kept in the browser's storage; full or disabled storage keeps it for the page only. */
function stored(key: string) {
  return {
    load: () => window.localStorage.getItem(key),
    save: (value: string) => {
      try {
        window.localStorage.setItem(key, value);
      } catch {
        // storage full or disabled: the value still lives as long as the page
      }
    },
  };
}

function browserEnvironment(notifier: Notifier, people: PeopleDirectory, user: string): ChatEnvironment {
  // Kept per server and per user: the next sign-in finds them.
  const outbox = stored(`hubbub.outbox.${window.location.host}.${user}`);
  const drafts = stored(`hubbub.drafts.${window.location.host}.${user}`);
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
    fetchWindow: api.window,
    fetchRooms: api.rooms,
    notify: (alert: Alert) => {
      notifier.notify(alert);
    },
    loadOutbox: outbox.load,
    saveOutbox: outbox.save,
    loadDrafts: drafts.load,
    saveDrafts: drafts.save,
    profileChanged: (frame) => {
      people.apply(frame);
    },
    ...browserUploads(user),
  };
}

/** One ChatClient (and its notifier, and the people it shows) for the lifetime of the chat
 * screen, wired to the browser's online state. */
export function useChatClient(user: string): [ChatClient, ChatSnapshot, Notifier, PeopleDirectory] {
  const [notifier] = useState(
    () => new Notifier(browserNotifierEnvironment(newestMessage), `hubbub.notifications.${user}`),
  );
  const [people] = useState(
    () =>
      new PeopleDirectory({
        fetchProfiles: api.profiles,
        setTimeout: (callback, ms) => window.setTimeout(callback, ms),
      }),
  );
  const [client] = useState(() => new ChatClient(socketUrl(), browserEnvironment(notifier, people, user)));
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

  return [client, snapshot, notifier, people];
}

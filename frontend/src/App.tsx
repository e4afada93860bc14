import { useCallback, useEffect, useState } from "react";

import { api, ApiError, type ServerConfig } from "./api";
import { Chat } from "./app/Chat";
import { Login } from "./app/Login";

type Phase =
  | { kind: "loading" }
  | { kind: "unreachable"; message: string }
  | { kind: "login"; config: ServerConfig; reason: string | null }
  | { kind: "chat"; config: ServerConfig; user: string; admin: boolean };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });

  useEffect(() => {
    const request = { cancelled: false };
    void (async () => {
      try {
        const config = await api.config();
        try {
          const me = await api.me();
          if (!request.cancelled) setPhase({ kind: "chat", config, user: me.user, admin: me.admin });
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 401)) throw error;
          if (!request.cancelled) setPhase({ kind: "login", config, reason: null });
        }
      } catch (error) {
        if (!request.cancelled)
          setPhase({
            kind: "unreachable",
            message:
              error instanceof ApiError
                ? `The server answered: ${error.message}.`
                : "Check your connection, or whether the server is running, then reload.",
          });
      }
    })();
    return () => {
      request.cancelled = true;
    };
  }, []);

  const onSignedOut = useCallback((config: ServerConfig, reason: string | null) => {
    setPhase({ kind: "login", config, reason });
  }, []);

  switch (phase.kind) {
    case "loading":
      return (
        <main className="centered" aria-busy="true">
          <p>Loading…</p>
        </main>
      );
    case "unreachable":
      return (
        <main className="centered">
          <h1>Hubbub</h1>
          <p role="alert">The chat server cannot be reached. {phase.message}</p>
          <button
            type="button"
            onClick={() => {
              window.location.reload();
            }}
          >
            Try again
          </button>
        </main>
      );
    case "login":
      return (
        <Login
          config={phase.config}
          reason={phase.reason}
          onLoggedIn={(user, admin) => {
            setPhase({ kind: "chat", config: phase.config, user, admin });
          }}
        />
      );
    case "chat":
      return (
        <Chat
          config={phase.config}
          user={phase.user}
          admin={phase.admin}
          onSignedOut={(reason) => {
            onSignedOut(phase.config, reason);
          }}
        />
      );
  }
}

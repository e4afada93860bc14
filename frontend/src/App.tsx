import { useCallback, useEffect, useState } from "react";

import { api, ApiError, type ServerConfig } from "./api";
import { Chat } from "./app/Chat";
import { Login } from "./app/Login";
import { inviteToken, Signup } from "./people/Signup";

type Phase =
  | { kind: "loading" }
  | { kind: "unreachable"; message: string }
  | { kind: "login"; config: ServerConfig; reason: string | null }
  | { kind: "signup"; config: ServerConfig; token: string | null }
  | { kind: "chat"; config: ServerConfig; user: string; admin: boolean };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });

  useEffect(() => {
    const request = { cancelled: false };
    void (async () => {
      try {
        const config = await api.config();
        const token = inviteToken(window.location.hash);
        try {
          const me = await api.me();
          forgetInvite();
          if (!request.cancelled) setPhase({ kind: "chat", config, user: me.user, admin: me.admin });
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 401)) throw error;
          if (request.cancelled) return;
          // An invitation link, or a new server: sign up instead of in.
          if (config.auth_mode === "password" && (token || config.setup_needed))
            setPhase({ kind: "signup", config, token });
          else setPhase({ kind: "login", config, reason: null });
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
    case "signup":
      return (
        <Signup
          config={phase.config}
          token={phase.token}
          onSignedIn={(user, admin) => {
            forgetInvite();
            setPhase({ kind: "chat", config: phase.config, user, admin });
          }}
          onSignIn={() => {
            forgetInvite();
            setPhase({ kind: "login", config: phase.config, reason: null });
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

/** The invitation is used (or not wanted): out of the address bar and the history. */
function forgetInvite(): void {
  if (!inviteToken(window.location.hash)) return;
  const url = new URL(window.location.href);
  url.hash = "";
  window.history.replaceState(null, "", url);
}

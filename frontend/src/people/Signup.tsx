import { useEffect, useId, useRef, useState, type SyntheticEvent } from "react";

import { api, ApiError, type ServerConfig } from "../api";

/** A new password account: the server's first admin (first run), or someone invited by a link
 * (``token``). Signs them in. */
export function Signup({
  config,
  token,
  onSignedIn,
  onSignIn,
}: {
  config: ServerConfig;
  token: string | null;
  onSignedIn: (user: string, admin: boolean) => void;
  /** To the sign-in screen: the server has its first admin, or they have an account. */
  onSignIn: () => void;
}) {
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = { name: useId(), password: useId(), hint: useId(), error: useId() };
  const first = useRef<HTMLInputElement>(null);

  useEffect(() => {
    first.current?.focus();
  }, []);

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = token ? await api.acceptInvite(token, name, password) : await api.setup(name, password);
      onSignedIn(me.user, me.admin);
    } catch (caught) {
      if (!(caught instanceof ApiError)) setError("The server could not be reached. Check your connection and try again.");
      else if (caught.status === 422) setError("Please fill in both fields.");
      else setError(`${caught.message[0]?.toUpperCase() ?? ""}${caught.message.slice(1)}.`);
    } finally {
      setBusy(false);
    }
  }

  const invalid = error ? { "aria-invalid": true as const, "aria-describedby": ids.error } : {};
  return (
    <main className="centered">
      <form className="card login" onSubmit={(e) => void submit(e)}>
        <h1>Hubbub</h1>
        <h2>{token ? "You are invited: pick a name and a password" : "Welcome: make the first admin account"}</h2>
        {!token && (
          <p className="muted small">
            This server has no accounts yet. Whoever signs up here first becomes its admin, and can invite the others.
          </p>
        )}
        <label htmlFor={ids.name}>Name</label>
        <input
          id={ids.name}
          ref={first}
          autoComplete="username"
          required
          maxLength={32}
          value={name}
          onChange={(e) => {
            setName(e.target.value);
          }}
          {...invalid}
        />
        <label htmlFor={ids.password}>Password</label>
        <input
          id={ids.password}
          type="password"
          autoComplete="new-password"
          required
          minLength={config.password_min_length}
          value={password}
          aria-describedby={error ? `${ids.hint} ${ids.error}` : ids.hint}
          aria-invalid={error ? true : undefined}
          onChange={(e) => {
            setPassword(e.target.value);
          }}
        />
        <p id={ids.hint} className="muted small">
          At least {config.password_min_length} characters, and not one of the most common passwords.
        </p>
        {error && (
          <p id={ids.error} className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Making your account…" : token ? "Join the chat" : "Make the admin account"}
        </button>
        <button type="button" className="link" onClick={onSignIn}>
          I have an account: sign in
        </button>
      </form>
    </main>
  );
}

/** The invitation token in the page's address (#invite=…), if any. */
export function inviteToken(hash: string): string | null {
  const match = /(?:^#|&)invite=([A-Za-z0-9_-]{4,128})(?:&|$)/.exec(hash);
  return match?.[1] ?? null;
}

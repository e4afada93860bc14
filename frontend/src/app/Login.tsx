import { useEffect, useId, useRef, useState, type SyntheticEvent } from "react";

import { api, ApiError, type LoginForm, type ServerConfig } from "../api";
import { OpenModeNotice } from "./OpenModeNotice";
import { providerLoginUrl, signInErrorIn, withoutSignInError } from "./signIn";

const HEADINGS: Record<ServerConfig["auth_mode"], string> = {
  none: "Pick a display name",
  token: "Sign in with your access token",
  jwt: "Sign in with your JWT",
  password: "Sign in",
  oidc: "Sign in",
  proxy: "Sign in through your team's sign-in page",
};

export function Login({
  config,
  reason,
  onLoggedIn,
}: {
  config: ServerConfig;
  reason: string | null;
  onLoggedIn: (user: string, admin: boolean) => void;
}) {
  const [form, setForm] = useState<LoginForm>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = { name: useId(), secret: useId(), user: useId(), password: useId(), error: useId() };
  const mode = config.auth_mode;
  const form_ = useRef<HTMLFormElement>(null);
  const provider = config.oidc_provider_name ?? "your identity provider";
  // Auth mode oidc: what the provider's sign-in came back with, if it failed (?sign_in_error=).
  const [providerError] = useState(() => signInErrorIn(window.location.search, provider));

  // Where the user will type: the first field (in auth mode oidc, the button).
  useEffect(() => {
    form_.current?.querySelector<HTMLElement>("input, button")?.focus();
    if (providerError) window.history.replaceState(null, "", withoutSignInError(window.location.href));
  }, [providerError]);

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    if (mode === "oidc") {
      // A navigation, not a form submission: the Content-Security-Policy's form-action would
      // stop the redirect on to the provider.
      setBusy(true);
      window.location.assign(providerLoginUrl(window.location.href));
      return;
    }
    if (mode === "proxy") {
      // The authenticating proxy in front signs people in: going through it again does.
      window.location.reload();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { user, admin } = await api.login(form);
      onLoggedIn(user, admin);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) setError(`Sign-in refused: ${caught.message}`);
      else if (caught instanceof ApiError && caught.status === 422) setError("Please fill in the form.");
      // A name that passes for someone online's (409), too many failed attempts (429): the
      // server says what to do.
      else if (caught instanceof ApiError && (caught.status === 409 || caught.status === 429))
        setError(`${caught.message[0]?.toUpperCase() ?? ""}${caught.message.slice(1)}.`);
      else if (caught instanceof ApiError) setError(`Sign-in failed: the server answered ${caught.message}.`);
      else setError("Sign-in failed: the server could not be reached. Check your connection and try again.");
    } finally {
      setBusy(false);
    }
  }

  const field = (key: keyof LoginForm) => ({
    value: form[key] ?? "",
    onChange: (e: { target: { value: string } }) => {
      setForm({ ...form, [key]: e.target.value });
    },
    "aria-describedby": error ? ids.error : undefined,
    "aria-invalid": error ? true : undefined,
  });

  return (
    <main className="centered">
      <form ref={form_} className="card login" onSubmit={(e) => void submit(e)}>
        <h1>Hubbub</h1>
        <h2>{HEADINGS[mode]}</h2>
        {mode === "none" && <OpenModeNotice />}
        {reason && (
          <p className="notice" role="status">
            {reason}
          </p>
        )}
        {mode === "none" && (
          <>
            <label htmlFor={ids.name}>Display name</label>
            <input id={ids.name} autoComplete="nickname" required maxLength={32} {...field("name")} />
          </>
        )}
        {(mode === "token" || mode === "jwt") && (
          <>
            <label htmlFor={ids.secret}>{mode === "jwt" ? "JWT" : "Access token"}</label>
            <input id={ids.secret} type="password" autoComplete="off" required {...field("token")} />
          </>
        )}
        {mode === "password" && (
          <>
            <label htmlFor={ids.user}>User name</label>
            <input id={ids.user} autoComplete="username" required {...field("username")} />
            <label htmlFor={ids.password}>Password</label>
            <input id={ids.password} type="password" autoComplete="current-password" required {...field("password")} />
          </>
        )}
        {mode === "proxy" && (
          <p>
            This server signs people in through the sign-in page in front of it. If you see this,
            the request did not come through it, or it did not say who you are.
          </p>
        )}
        {(error ?? providerError) && (
          <p id={ids.error} className="error" role="alert">
            {error ?? providerError}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : mode === "none" ? "Join the chat" : mode === "oidc" ? `Sign in with ${provider}` : "Sign in"}
        </button>
      </form>
    </main>
  );
}

// Signing in and out through the team's identity provider (auth mode oidc): the server's
// /api/auth/oidc/login sends the browser there, and its callback sends it back, signed in or
// with ?sign_in_error=<code> (docs/protocol.md), which the sign-in screen says in words.
import { api, type AuthMode } from "../api";
import type { components } from "../contract/schema.gen";

export type SignInError = components["schemas"]["SignInError"];

const PARAM = "sign_in_error";

/** Every code the server sends, in words (the compiler asks for a new code's words). */
export const SIGN_IN_ERRORS: Record<SignInError, (provider: string) => string> = {
  expired: () => "The sign-in expired or was started in another window. Please try again.",
  denied: (provider) => `The sign-in was cancelled at ${provider}.`,
  provider_error: (provider) => `${provider} could not complete the sign-in. Please try again.`,
  unreachable: (provider) => `${provider} cannot be reached right now. Please try again in a moment.`,
  invalid_token: (provider) =>
    `${provider}'s answer could not be verified, so you were not signed in. If this keeps happening, tell your administrator.`,
  name_taken: (provider) =>
    `Your user name at ${provider} is already used by another account here. Ask your administrator.`,
  name_invalid: (provider) =>
    `Your user name at ${provider} cannot be used here: names have up to 32 letters, digits, spaces, '.', '_' or '-', in one alphabet. Ask your administrator.`,
  email_domain: () =>
    "Your account's email address is not one this chat accepts: it must be a verified address in an allowed domain.",
  deactivated: () => "Your account here has been deactivated. Ask your administrator.",
  not_configured: () => "This server does not sign in through an identity provider.",
  server_error: () => "The chat server could not finish signing you in. Please try again.",
};

function isSignInError(code: string): code is SignInError {
  return Object.hasOwn(SIGN_IN_ERRORS, code);
}

/** What went wrong, in words, when the provider's sign-in came back with an error; else null. */
export function signInErrorIn(search: string, provider: string): string | null {
  const code = new URLSearchParams(search).get(PARAM);
  if (code === null) return null;
  // Only the server's own codes are shown: a link cannot put words of its own on this page.
  return isSignInError(code) ? SIGN_IN_ERRORS[code](provider) : "The sign-in did not complete. Please try again.";
}

/** The address bar without the error, so a reload does not show it again. */
export function withoutSignInError(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.delete(PARAM);
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}

/** Where the sign-in button goes: the server's login, back to this page afterwards. */
export function providerLoginUrl(url: string): string {
  return `/api/auth/oidc/login?${new URLSearchParams({ next: withoutSignInError(url) }).toString()}`;
}

/** End the session; in auth mode oidc, go on to sign out at the provider when it says so. */
export async function signOut(
  mode: AuthMode,
  go: (url: string) => void = (url) => {
    window.location.assign(url);
  },
) {
  if (mode !== "oidc") {
    await api.logout();
    return;
  }
  const { end_session_url } = await api.oidcLogout();
  if (end_session_url) go(end_session_url);
}

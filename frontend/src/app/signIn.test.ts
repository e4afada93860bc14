import { describe, expect, it } from "vitest";

import { providerLoginUrl, signInErrorIn, SIGN_IN_ERRORS, withoutSignInError } from "./signIn";

describe("sign-in through the identity provider", () => {
  it("says each of the server's errors in words, naming the provider", () => {
    expect(signInErrorIn("?sign_in_error=denied", "Keycloak")).toBe("The sign-in was cancelled at Keycloak.");
    expect(signInErrorIn("?sign_in_error=name_taken", "Okta")).toContain("already used by another account");
    for (const [code, words] of Object.entries(SIGN_IN_ERRORS)) {
      expect(signInErrorIn(`?sign_in_error=${code}`, "X"), code).toBe(words("X"));
      expect(words("X")).toMatch(/\.$/);
    }
    expect(signInErrorIn("", "X")).toBeNull();
    expect(signInErrorIn("?room=general", "X")).toBeNull();
  });

  it("shows no words a link made up", () => {
    expect(signInErrorIn("?sign_in_error=Call+555-0100+to+unlock", "X")).toBe(
      "The sign-in did not complete. Please try again.",
    );
    expect(signInErrorIn("?sign_in_error=toString", "X")).toBe("The sign-in did not complete. Please try again.");
  });

  it("comes back to the page it left, without the error", () => {
    expect(withoutSignInError("https://chat.example/?sign_in_error=expired&room=dev#x")).toBe("/?room=dev#x");
    expect(providerLoginUrl("https://chat.example/?sign_in_error=expired")).toBe("/api/auth/oidc/login?next=%2F");
    expect(providerLoginUrl("https://chat.example/?room=dev")).toBe("/api/auth/oidc/login?next=%2F%3Froom%3Ddev");
  });
});
